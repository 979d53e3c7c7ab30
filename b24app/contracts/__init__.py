"""Contracts: types, numbering, documents, and the contract register."""
