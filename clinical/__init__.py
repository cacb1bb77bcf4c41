"""Coded vocabularies: reasons for referral (SNOMED CT), safety exclusions, and the reasons a
referral is declined, cancelled or ended. A plain package at the bottom of the layers: it imports
no app of ours, so every app can use it."""
