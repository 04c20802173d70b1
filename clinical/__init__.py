"""The product's clinical knowledge as pure Python (no Django): the one vocabulary, the rule
catalogue and the intake JSON contract. Every Django app builds on it; it imports none."""
