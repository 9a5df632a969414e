"""Dashboards: the document and its checks (`document`), its storage with versions (`store`), and
the pre-built tabs offered from what a project has received (`prebuilt_tabs`)."""
