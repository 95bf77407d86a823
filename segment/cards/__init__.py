"""Naming and describing segments: reference typologies, matching segments to them, profile
statistics, the words of the profile cards, and rendering the cards."""
