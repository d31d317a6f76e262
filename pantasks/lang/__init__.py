"""The opihi language: interpreter, built-in commands and data types."""
