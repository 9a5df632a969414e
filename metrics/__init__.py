"""The instrumentation library: reports, test suites and snapshots over pandas data.

Pure Python on NumPy, pandas and SciPy; it never imports Django, so it runs in users' batch jobs,
notebooks and CI pipelines.
"""

__version__ = "0.1.0"
