"""Built-in plugins: written exactly like third-party ones, registered by ``imggan.plugins``."""
