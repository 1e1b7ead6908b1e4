"""The bundled reference server: minimal, and correct against specs/."""
