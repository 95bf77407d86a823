"""`segment profile`: profile cards of a saved model's segments on a survey."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import (
    ENCODING,
    MAX_REPLICATES,
    SEED,
    _option_codebook,
    cli,
    echo,
    echo_json,
    err,
    out,
)


@cli.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@_option_codebook("Codebook of DATA (default: the one saved in MODEL).")
@click.option(
    "--typology",
    "typology_path",
    default="auto",
    show_default=True,
    help="Reference typology to name segments against: a bundled name or a file; 'auto' uses "
    "the codebook's typology: key when the survey asks that typology's battery; 'none' for none.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
)
@click.option("--explain", is_flag=True, help="Show the numbers behind every bullet.")
@click.option(
    "--min-cell",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Smallest number of respondents a reported cell may describe.",
)
@click.option(
    "--variance",
    type=click.Choice(["linearization", "bootstrap"]),
    default="linearization",
    show_default=True,
    help="Design-based variance when the codebook declares a design (strata, PSUs): Taylor "
    "linearisation or the Rao-Wu bootstrap of PSUs.",
)
@click.option(
    "--bootstrap",
    "n_boot",
    type=click.IntRange(min=10, max=MAX_REPLICATES),
    default=500,
    show_default=True,
    help="Bootstrap replicates for --variance bootstrap.",
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the bootstrap.")
@click.option(
    "--check",
    is_flag=True,
    help="Also judge the printed cards bullet by bullet against the reference typology's cards "
    "(same, changed, not said, contradicted; statements the reference does not make) and exit 1 "
    "when any bullet is contradicted.",
)
@ENCODING
def profile(
    model_path,
    data,
    codebook_path,
    typology_path,
    fmt,
    explain,
    min_cell,
    variance,
    n_boot,
    seed,
    check,
    encoding,
):
    """Print profile cards of a fitted model's segments on DATA, named after a typology.

    When the codebook declares a design (``design:`` strata, PSU, fpc), the shares, the item
    tests and the demographic shares get design-based standard errors (``--variance``).
    """
    from segment.cards.agreement import card_agreement
    from segment.cards.naming import name_segments
    from segment.cards.profile_stats import profile_segments
    from segment.cards.publish import publish_cards
    from segment.cards.render import cards_to_dicts, cards_to_markdown
    from segment.cards.typology import typology_for
    from segment.cards.wording import build_cards
    from segment.segments.model_file import load_model
    from segment.survey.codebook import Codebook
    from segment.survey.read import read_survey

    model = load_model(model_path)
    cb = Codebook.load(codebook_path) if codebook_path is not None else model.codebook
    frame, cb = read_survey(data, cb, encoding=encoding)
    items = model.items
    missing = [c for c in items if c not in cb]
    if missing:
        raise click.UsageError(f"the model's items are not in the codebook: {', '.join(missing)}")
    X = cb.model_codes(frame, items)
    asked = X.notna().any(axis=1).to_numpy()
    if not asked.all():  # in no segment, as when fitting: not in the shares or their intervals
        err.print(
            f"note: {int((~asked).sum()):,} respondents answered none of the model's items and "
            "are in no segment.",
            markup=False,
        )
        frame, X = frame[asked], X[asked]
    if variance != "linearization" and not cb.has_design:
        err.print(
            f"note: --variance {variance} has no effect: the codebook declares no design "
            "(strata, PSU), so respondents are treated as independent draws.",
            markup=False,
        )
    resp = model.estimator.predict_proba(X)
    profiles, published = (
        profile_segments(
            resp,
            frame,
            cb,
            items=items,
            min_cell=min_cell,
            variance=variance,
            n_boot=n_boot,
            random_state=seed,
            protect=protect,
        )
        for protect in (False, True)
    )
    typology = typology_for(cb, typology_path)
    names = None if typology is None else name_segments(profiles, typology)
    cards = build_cards(profiles, cb, names, typology)
    if check and typology is None:
        raise click.UsageError(
            "--check needs a reference typology: --typology NAME or FILE (none applies here)"
        )
    agreement = card_agreement(cards, typology) if check and typology is not None else None
    cards = publish_cards(cards, profiles, published)
    if fmt == "json":
        payload = {
            "typology": None if typology is None else typology.name,
            "synthetic": cb.synthetic,
            "min_cell": min_cell,
            "design": profiles.design,
            "segments": cards_to_dicts(cards),
        }
        if agreement is not None:
            payload["agreement"] = {
                "tally": agreement.tally(),
                "bullets": agreement.bullets.to_dict(orient="records"),
                "invented": agreement.invented.to_dict(orient="records"),
            }
        echo_json(payload)
        _exit_on_contradiction(agreement)
        return
    text = cards_to_markdown(cards, explain=explain, min_cell=min_cell, synthetic=cb.synthetic)
    if fmt == "markdown":
        echo(text, nl=False)
    else:
        from rich.markdown import Markdown

        from segment._escape import visible_controls

        out.print(Markdown(visible_controls(text)))
    if agreement is not None:
        summary = agreement.summary()
        if fmt == "markdown":
            from segment._escape import markdown_code_block

            echo("\n" + markdown_code_block(summary))
        else:
            out.print(summary, markup=False)
    _exit_on_contradiction(agreement)


def _exit_on_contradiction(agreement) -> None:
    if agreement is not None and agreement.tally()["contradicted"]:
        raise SystemExit(1)
