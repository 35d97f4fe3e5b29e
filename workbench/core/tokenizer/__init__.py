"""Tokenizer inspection without any UI: tokenize, batch, round trip, compare, train, show code.

Heavy libraries (transformers, tokenizers) are imported inside functions, so importing
this package is cheap.
"""

from workbench.core.tokenizer.analysis import Token, Tokenization, Window, tokenize
from workbench.core.tokenizer.loader import LoadedTokenizer, display_name, load_tokenizer
from workbench.core.tokenizer.options import TokenizeOptions

__all__ = [
    "LoadedTokenizer",
    "Token",
    "Tokenization",
    "TokenizeOptions",
    "Window",
    "display_name",
    "load_tokenizer",
    "tokenize",
]
