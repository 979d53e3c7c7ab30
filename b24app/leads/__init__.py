"""Lead distribution: rules, strategies, availability, duplicates and the decision log."""
