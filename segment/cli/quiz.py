"""The quiz command: a typing tool as a static, self-contained web page."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import FORCE, cli, err, guard_folder, out


@cli.command()
@click.argument(
    "tool_path",
    metavar="[TOOL]",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder to write (index.html inside).",
)
@click.option(
    "--lang",
    "language",
    help="Language the page opens in (default: the codebook's first language).",
)
@click.option(
    "--typology",
    "typology_path",
    default="model",
    show_default=True,
    help="Reference typology whose cards describe the named segments: 'model' (the one the "
    "segments were named against), a bundled name, a file, or 'none'.",
)
@click.option(
    "--profiles",
    "profiles_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON of `segment profile MODEL DATA --format json`: cards for segments the "
    "typology does not describe.",
)
@click.option("--title", help="Page title (default: a question, in each language).")
@FORCE
def quiz(tool_path, output, language, typology_path, profiles_path, title, force):
    """Write TOOL's questions as a self-contained web page that scores answers in the browser.

    The page (OUTPUT/index.html) needs no server and loads nothing from outside: it opens
    from file:// and can be mailed or put on any static host. Without TOOL: the bundled
    8-question typing tool of the synthetic kz2020 survey (data/kz2020_typing_tool.json).
    """
    from segment.cards.typology import Typology
    from segment.quiz import build_quiz, read_profiles, write_quiz
    from segment.quiz.builder import is_quiz_folder
    from segment.resources import bundled_path
    from segment.segments.model_file import load_model

    tool_path = tool_path or bundled_path("data", "kz2020_typing_tool.json")
    inputs = [tool_path, profiles_path, typology_path]
    output = guard_folder(output, "quiz", inputs, force, legacy=is_quiz_folder)
    model = load_model(tool_path)
    name = typology_path.strip()
    if name.lower() == "none":
        typology = None
    elif name.lower() == "model":
        typology = Typology.load(model.typology) if model.typology else None
    else:
        typology = Typology.load(name)
    profiles = None if profiles_path is None else read_profiles(profiles_path)
    result = build_quiz(
        model,
        typology=typology,
        profiles=profiles,
        profiles_name=None if profiles_path is None else profiles_path.name,
        language=language,
        title=title,
        source_name=tool_path.name,
    )
    write_quiz(result, output, force=force)
    for note in result.notes:
        err.print(f"note: {note}", markup=False)
    sources = result.profile_sources
    cards = []
    if sources.count("typology") and typology is not None:
        cards.append(f"{sources.count('typology')} from the reference typology {typology.name}")
    if sources.count("profiles"):
        cards.append(f"{sources.count('profiles')} from {profiles_path.name}")
    if sources.count(None):
        cards.append(f"{sources.count(None)} without a card")
    out.print(
        f"Wrote {output / 'index.html'}: {len(model.items)} questions, {len(model.segments)} "
        f"segments, languages {', '.join(result.languages)} (opens in {result.language}); "
        f"profile cards: {'; '.join(cards)}.",
        markup=False,
    )
    if len(model.items) > 20:
        err.print(
            f"note: {len(model.items)} questions is a long quiz; `segment typing-tool` chooses "
            "a few golden questions.",
            markup=False,
        )
    out.print(f"Open {(output / 'index.html').resolve().as_uri()} in a browser.", markup=False)
