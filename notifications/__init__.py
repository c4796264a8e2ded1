"""Turning notices into customer and engineer mail, in Korean and English."""
