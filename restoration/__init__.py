"""How pixels and samples change. Plain Python over paths and numpy arrays: never imports Django.

Configuration arrives as arguments; heavy libraries are imported inside the functions that
need them, so importing this package is cheap.
"""
