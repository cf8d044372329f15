"""Imports of citizens, cases, rulings and subscribers from files."""
