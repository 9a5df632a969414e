#!/usr/bin/env python
"""Django's command-line utility; the embedded default settings unless DJANGO_SETTINGS_MODULE says."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlplatform.settings.local")
    from mlplatform.settings.env import load_settings

    load_settings()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
