"""Checkpoints: find them, read them without loading weights, load them with a head, run them.

Modules: `catalog` (where checkpoints are), `inspect` (config + weight headers), `heads`
(which heads an architecture has, from transformers' auto mappings), `loading` (what a head
takes from a checkpoint; loading for real), `inference` (the playground), `codegen`
("Show code"), `create` (a model from a config). Heavy libraries are imported inside functions.
"""
