"""The UI-free core: everything here is importable without textual."""
