"""Test entry point: float64 on, as the CLI does (library modules never touch jax.config)."""

import jax

jax.config.update("jax_enable_x64", True)
