"""workbench: a terminal workbench for the Hugging Face model workflow."""

__version__ = "0.1.0"
