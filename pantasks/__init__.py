"""pantasks: the Pan-STARRS IPP task scheduler, rebuilt in Python on Twisted."""

__version__ = "0.1.0"
