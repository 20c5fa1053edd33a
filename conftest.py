"""Doctests of modules whose extra is not installed are not collected."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("dask") else ["skstc/distributed.py"]
