"""Weights and sampling designs: design-based variances (Taylor linearisation, replicate
weights), raking to population margins, and margins files."""
