"""`flask demo generate`: realistic data at scale for benchmarks."""

from __future__ import annotations

import click


@click.command("generate")
@click.option("--events", "count", default=10000, show_default=True, type=click.IntRange(1))
def generate_command(count: int) -> None:
    """Generate COUNT published events with tiers, for search benchmarks."""
    raise click.ClickException("not implemented yet (events work)")
