"""`classnet alerts`: e-mail a station's teacher when it needs them (docs/operations.md)."""
