"""SYNTHETIC data: surveys generated from a reference typology, the list-experiment survey and
the population margins they draw demographics from."""
