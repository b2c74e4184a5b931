"""Agents for the training feature: the simulated citizen of a practice desk."""
