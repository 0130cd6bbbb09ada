"""Tests for bot.grammar: every command form, the friendly errors, and parse() never crashing."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.commands import (
    TIMES,
    WEATHERS,
    BranchWorld,
    Command,
    ContinueStory,
    ExportWorld,
    Help,
    Imagine,
    ImportWorld,
    NewWorld,
    RegisterCharacter,
    Reroll,
    SetScene,
    SetStyle,
    ShowHistory,
    ShowWorld,
    Undo,
    Why,
)
from bot.grammar import COMMAND_NAMES, USAGE, GrammarError, help_text, parse
from engine.compose import RenderOptions
from engine.errors import WorldError
from engine.sizes import pixel_size

# ---------------------------------------------------------------- every form


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/world new", NewWorld()),
        ("/world new The Lost City", NewWorld(title="The Lost City")),
        ('/world new "The Lost City" --seed 7', NewWorld(title="The Lost City", seed=7)),
        ("/world new “Old Mill Tales”", NewWorld(title="Old Mill Tales")),
        (
            "/world new Harbour --style watercolor, soft light --negative text, logos --ar 3:2",
            NewWorld(title="Harbour", style="watercolor, soft light", negative="text, logos",
                     ar=(3, 2)),
        ),
        ("/world new --style=ink wash", NewWorld(style="ink wash")),
        ('/world new --style "ink wash"', NewWorld(style="ink wash")),
        ("/world show", ShowWorld()),
        ("/world history", ShowHistory()),
        ("/world export", ExportWorld()),
        ("/world import", ImportWorld()),
        ("/world import worlds/tavern.json", ImportWorld(path="worlds/tavern.json")),
        ('/world import "my worlds/tavern.json"', ImportWorld(path="my worlds/tavern.json")),
        ("/world branch 3", BranchWorld(panel=3)),
        ("/world branch #12", BranchWorld(panel=12)),
        ("/cref Mira", RegisterCharacter(name="Mira")),
        (
            "/cref Mira a girl with Mira's grandmother's scarf",
            RegisterCharacter(name="Mira", description="a girl with Mira's grandmother's scarf"),
        ),
        (
            '/cref "Sir Aldric" an old knight, "the Grey" --cw 80 --lock',
            RegisterCharacter(name="Sir Aldric", description='an old knight, "the Grey"', cw=80,
                              lock=True),
        ),
        ("/cref “Sir Aldric” old", RegisterCharacter(name="Sir Aldric", description="old")),
        ('/cref "loaf of bread"', RegisterCharacter(name="loaf of bread")),
        (
            '/cref Mira --alias Mi --alias "the girl" --alias Mimi',
            RegisterCharacter(name="Mira", aliases=("Mi", "the girl", "Mimi")),
        ),
        (
            "/cref --image refs/mira.png --cw 0 Mira a girl",
            RegisterCharacter(name="Mira", description="a girl", image="refs/mira.png", cw=0),
        ),
        ("/cref Mira: a girl", RegisterCharacter(name="Mira", description="a girl")),
        ("/cref l'auberge an inn", RegisterCharacter(name="l'auberge", description="an inn")),
        ("/sref", SetStyle()),
        ("/sref ink wash, muted", SetStyle(text="ink wash, muted")),
        ("/sref --image s.png --sw 40", SetStyle(image="s.png", sw=40)),
        ("/scene", SetScene()),
        ("/scene tavern", SetScene(location="tavern")),
        (
            "/scene “Old Mill” dusty, flour everywhere --time dusk --light candlelit glow",
            SetScene(location="Old Mill", description="dusty, flour everywhere", time="dusk",
                     light="candlelit glow"),
        ),
        ("/scene --weather heavy rain", SetScene(weather="heavy rain")),
        ("/imagine a red fox", Imagine(text="a red fox")),
        (
            "/imagine a fox --seed 5 --ar 16:9 --no blur, text --steps 30",
            Imagine(text="a fox", options=RenderOptions(seed=5, ar=(16, 9),
                                                        size=pixel_size(16, 9),
                                                        negative="blur, text", steps=30)),
        ),
        ("/continue", ContinueStory()),
        ("/continue she doesn't look back", ContinueStory(text="she doesn't look back")),
        ("/continue --seed 0", ContinueStory(options=RenderOptions(seed=0))),
        ("/reroll", Reroll()),
        ("/reroll 4", Reroll(panel=4)),
        ("/undo", Undo()),
        ("/why", Why()),
        ("/why 2", Why(panel=2)),
        ("/help", Help()),
        ("/help continue", Help(topic="continue")),
        ("/help /continue", Help(topic="continue")),
        ("/help World  New", Help(topic="world new")),
        ("/help world", Help(topic="world")),
    ],
)
def test_forms(line: str, expected: Command) -> None:
    assert parse(line) == expected


@pytest.mark.parametrize(
    "line", ["continue she runs", "/CONTINUE she runs", "  /Continue she runs \n",
             "／continue she runs", "/ continue she runs"],
)
def test_slash_optional_case_and_whitespace(line: str) -> None:
    assert parse(line) == ContinueStory(text="she runs")


def test_world_subcommand_case_insensitive() -> None:
    assert parse("WORLD Show") == ShowWorld()


# ---------------------------------------------------------------- free text


@pytest.mark.parametrize(
    "text",
    ["🐉 der Drache fliegt über die Stadt", "竜が街の上を飛ぶ。", 'she says "wait" and, well--maybe',
     "Mira's scarf — torn", "l'auberge “ferme” -5 --", "Ταβέρνα στο λιμάνι 🍺"],
)
def test_free_text_verbatim(text: str) -> None:
    assert parse(f"/continue {text}").text == text
    assert parse(f"/imagine {text} --seed 3").text == text


def test_inner_whitespace_kept_and_options_anywhere() -> None:
    cmd = parse("/cref Mira   a girl\twith  a scarf --cw 10 and boots")
    assert cmd == RegisterCharacter(name="Mira", description="a girl\twith  a scarf and boots",
                                    cw=10)


def test_newlines_and_control_characters_become_spaces() -> None:
    assert parse("/continue she runs\nand\x00jumps").text == "she runs and jumps"


def test_quotes_in_free_text_are_characters() -> None:
    assert parse('/continue she whispers "run').text == 'she whispers "run'
    assert parse('/cref Mira says "hi').description == 'says "hi'


# ---------------------------------------------------------------- options


@pytest.mark.parametrize("dash", ["—", "–", "--"])
def test_dash_options(dash: str) -> None:
    cmd = parse(f"/continue she turns {dash}seed 5 {dash}ar 2x3 {dash}no blur")
    assert cmd == ContinueStory(text="she turns", options=RenderOptions(
        seed=5, ar=(2, 3), size=pixel_size(2, 3), negative="blur"))


def test_option_names_case_insensitive() -> None:
    assert parse("/continue x --Seed 4").options.seed == 4


def test_world_new_ar_is_ratio_only() -> None:
    assert parse("/world new --ar 16:9").ar == (16, 9)


def test_style_runs_to_next_option() -> None:
    cmd = parse("/world new Tales --style watercolor, soft light --seed 4")
    assert (cmd.title, cmd.style, cmd.seed) == ("Tales", "watercolor, soft light", 4)


@pytest.mark.parametrize(("w", "h"), [(a, b) for a in range(1, 22) for b in range(1, 22)
                                      if 1 / 4 <= a / b <= 4])
def test_pixel_size(w: int, h: int) -> None:
    pw, ph = pixel_size(w, h)
    assert pw % 64 == 0 and ph % 64 == 0
    assert 0.7 < pw * ph / (768 * 512) < 1.4
    assert abs(math.log(pw / ph) - math.log(w / h)) < 0.15


def test_pixel_size_common() -> None:
    assert pixel_size(3, 2) == (768, 512)
    assert pixel_size(2, 3) == (512, 768)
    assert pixel_size(1, 1) == (640, 640)


# ---------------------------------------------------------------- errors


def error(line: str) -> str:
    with pytest.raises(GrammarError) as info:
        parse(line)
    assert isinstance(info.value, WorldError)
    return str(info.value)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", "empty command"),
        ("   \n ", "empty command"),
        ("/", "empty command"),
        ("/contnue she runs", 'unknown command "/contnue" — did you mean /continue?'),
        ("/imagin a fox", "did you mean /imagine?"),
        ("/xyzzy", "commands: /world, /cref"),
        ("/world", "/world needs a subcommand: new, show, history, export, import, branch"),
        ("/world neww", "did you mean /world new?"),
        ("/world xyzzy", "subcommands: /world new"),
        ("/continue x --sed 4", 'unknown option "--sed" for /continue — did you mean --seed?'),
        ("/continue x —sed 4", "did you mean --seed?"),
        ("/continue x --cw 4", "--cw is not an option of /continue; its options are --seed"),
        ("/continue x --zzz", "its options are --seed, --ar, --no, --steps"),
        ("/undo --seed 3", "/undo takes no options"),
        ("/continue she stops —then runs", "put a space after it"),
        ("/world show now", "/world show takes no arguments"),
        ("/continue x --seed 1 --seed 2", "--seed given twice"),
        ("/cref Mira --lock --lock", "--lock given twice"),
        ("/cref Mira --lock=yes", "--lock takes no value"),
        ("/continue x --seed", "--seed needs a value"),
        ("/continue x --seed --ar 1:1", "--seed needs a value"),
        ("/continue x --no", "--no needs a value"),
        ("/continue x --no --seed 1", "--no needs a value"),
        ("/cref Mira --cw 150", "--cw must be 0-100, got 150"),
        ("/sref --sw -1", "--sw must be 0-100, got -1"),
        ("/continue --seed 4294967296", "--seed must be 0-4294967295, got 4294967296"),
        ("/continue --seed five", "--seed must be 0-4294967295, got five"),
        ("/continue --steps 0", "--steps must be 1-150, got 0"),
        ("/continue --steps 151", "--steps must be 1-150, got 151"),
        ("/reroll 0", "PANEL must be 1-"),
        ("/why last", "PANEL must be 1-2147483647, got last"),
        ("/world branch", "which panel?"),
        ("/continue --ar 5:1", "--ar must be between 1:4 and 4:1, got 5:1"),
        ("/continue --ar 22:9", "--ar sides must be 1-21, got 22:9"),
        ("/continue --ar 0:1", "--ar sides must be 1-21, got 0:1"),
        ("/continue --ar wide", "--ar must look like W:H"),
        ("/imagine", "/imagine needs some text"),
        ("/imagine --seed 3", "/imagine needs some text"),
        ("/cref", "/cref needs a NAME"),
        ("/cref --lock", "/cref needs a NAME"),
        ('/cref "Sir Aldric a knight', "unclosed quote"),
        ('/scene "Old Mill', "unclosed quote"),
        ('/world new "Tales', "unclosed quote"),
        ('/cref Mira --alias "the girl', "unclosed quote"),
        ("/cref " + "A" * 61, "NAME is at most 60 characters, got 61"),
        ('/scene "' + "b " * 40 + '"', "LOCATION is at most 60 characters"),
        ("/cref ???", "NAME needs at least one letter or digit"),
        ('/cref ""', "NAME needs at least one letter or digit"),
        ("/cref -- x", "NAME must not start with a dash"),
        ("/cref Mira --alias !!", "--alias needs at least one letter or digit"),
        ("/world new " + "t" * 101, "TITLE is at most 100 characters"),
        ("/help contnue", "did you mean /continue?"),
    ],
)
def test_errors(line: str, expected: str) -> None:
    assert expected in error(line)


@pytest.mark.parametrize(
    ("line", "command"),
    [("/continue x --sed 4", "continue"), ("/cref Mira --cw 500", "cref"),
     ("/world new --seed -1", "world new"), ('/scene "x', "scene")],
)
def test_option_errors_show_usage(line: str, command: str) -> None:
    assert error(line).endswith("usage: " + USAGE[command])


def test_suggestion_attribute() -> None:
    with pytest.raises(GrammarError) as info:
        parse("/contnue")
    assert info.value.suggestion == "/continue"


def test_too_long_line() -> None:
    assert error("/continue " + "a" * 10_000) == "command too long (10010 characters, max 4000)"
    assert parse("/continue " + "a" * 3990).text == "a" * 3990


def test_huge_number_is_echoed_short() -> None:
    message = error("/continue --seed " + "9" * 3000)
    assert "--seed must be 0-4294967295" in message and len(message) < 300


# ---------------------------------------------------------------- help


def test_usage_covers_every_command() -> None:
    assert set(USAGE) == set(COMMAND_NAMES)
    assert all(USAGE[name].startswith("/" + name) for name in COMMAND_NAMES)


def test_help_all_lists_every_usage() -> None:
    text = help_text()
    assert all(usage in text for usage in USAGE.values())


@pytest.mark.parametrize("topic", ["continue", "/continue", "CONTINUE", " continue "])
def test_help_topic_forms(topic: str) -> None:
    text = help_text(topic)
    assert text.startswith(USAGE["continue"]) and "--seed N" in text and "--steps N" in text


def test_help_world_lists_subcommands() -> None:
    text = help_text("world")
    assert USAGE["world new"] in text and USAGE["world branch"] in text
    assert help_text("world new").startswith(USAGE["world new"])


def test_help_unknown_topic_names_nearest() -> None:
    with pytest.raises(GrammarError, match="did you mean /cref"):
        help_text("crfe")


# ---------------------------------------------------------------- properties

_PROPERTY = settings(max_examples=300, deadline=None)
_VOCAB = [
    *COMMAND_NAMES, "/world", "world", "new", "/continue", "/cref", "/scene", "/help", "/",
    "--seed", "--ar", "--style", "--negative", "--no", "--steps", "--cw", "--sw", "--alias",
    "--lock", "--image", "--time", "--light", "--weather", "--sed", "--", "—", "–", "—seed",
    "–cw", "--seed=", "--ar=16:9", '"', "“", "”", "'", '"Sir', 'Aldric"', "“Old", "Mill”",
    "Mira's", "0", "-1", "5", "150", "4294967296", "16:9", "5:1", "2x3", "#3", "🐉", "über",
    "竜", "a", "girl", "with", "scarf", "\n", "\t", "\x00",
]
_lines = st.lists(st.sampled_from(_VOCAB), max_size=12).flatmap(
    lambda words: st.lists(st.sampled_from([" ", "", "  "]), min_size=len(words),
                           max_size=len(words)).map(
        lambda seps: "".join(w + s for w, s in zip(words, seps, strict=True))))


def _parses_or_grammar_error(line: str) -> None:
    try:
        result = parse(line)
    except GrammarError:
        return
    assert isinstance(result, Command)


@_PROPERTY
@given(st.text())
def test_any_text(line: str) -> None:
    _parses_or_grammar_error(line)


@_PROPERTY
@given(st.sampled_from(["/continue ", "/cref ", "/scene ", "/world new ", "/imagine ",
                        "/sref ", "/world import ", "/help "]), st.text())
def test_any_text_after_a_command(prefix: str, text: str) -> None:
    _parses_or_grammar_error(prefix + text)


@_PROPERTY
@given(_lines)
def test_vocabulary_lines(line: str) -> None:
    _parses_or_grammar_error(line)


def _looks_like_option(token: str) -> bool:
    body = token[2:] if token.startswith("--") else token[1:] if token[:1] in "—–" else ""
    return bool(body) and body[0].isalpha()


_plain = st.text(st.characters(exclude_categories=["Cc", "Cs"]) | st.sampled_from("\t\n "),
                 max_size=200)


@_PROPERTY
@given(_plain)
def test_continue_keeps_text(text: str) -> None:
    assume(not any(_looks_like_option(token) for token in text.split()))
    cmd = parse("/continue " + text)
    assert isinstance(cmd, ContinueStory)
    assert " ".join(cmd.text.split()) == " ".join(text.split())
    assert cmd.text == cmd.text.strip()


def test_an_empty_style_means_no_style() -> None:
    # Generated scripts (one set per world) write "--style" with nothing after it for "no style".
    assert parse('/world new "A set" --style') == NewWorld(title="A set")
    assert parse("/world new --style --seed 3") == NewWorld(seed=3)


def test_help_imagine_says_when_nobody_is_in_frame() -> None:
    text = help_text("imagine")
    assert "establishing shot" in text and "nobody in frame" in text


# ---------------------------------------------------------------- known times and weathers


@pytest.mark.parametrize(("line", "expected"), [
    ("/scene --time golden hour --weather light rain", SetScene(time="golden hour", weather="light rain")),
    ("/scene --time  Golden   Hour", SetScene(time="golden hour")),
    ("/scene --time sunrise --weather drizzle", SetScene(time="dawn", weather="light rain")),  # the planner's words
    ("/scene Pier --weather heavy rain --light purple haze", SetScene(location="Pier", weather="heavy rain",
                                                                      light="purple haze")),
])
def test_time_and_weather_take_the_planners_words(line: str, expected: SetScene) -> None:
    assert parse(line) == expected


@pytest.mark.parametrize(("line", "option", "known"), [
    ("/scene --time purple", "--time", TIMES), ("/scene Pier --weather acid fog", "--weather", WEATHERS),
    ("/scene --time lunchtime --light warm", "--time", TIMES),
])
def test_unknown_times_and_weathers_are_refused_with_the_known_values(line: str, option: str,
                                                                      known: tuple[str, ...]) -> None:
    with pytest.raises(GrammarError) as e:
        parse(line)
    message = str(e.value)
    assert message.startswith(f"{option} must be one of: ") and all(v in message for v in known)
    assert "golden hour" in TIMES and "light rain" in WEATHERS and "night" in TIMES and "fog" in WEATHERS
