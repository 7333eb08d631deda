"""The numpy reference solution of the le4nn course, importable as a library."""
