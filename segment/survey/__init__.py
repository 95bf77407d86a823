"""The survey in: reading respondent files, the codebook and its items, checking a frame against
it, drafting a codebook from a file, and a first summary of a survey."""
