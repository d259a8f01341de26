"""split_paragraphs on hand-made examples of each case it handles."""

from __future__ import annotations

from stance.data import split_paragraphs


def test_blank_lines_separate_paragraphs():
    text = "First paragraph, one line.\n\nSecond paragraph.\n   \n\nThird one.\n"
    assert split_paragraphs(text) == [
        "First paragraph, one line.",
        "Second paragraph.",
        "Third one.",
    ]


def test_hard_wrapped_lines_are_joined_mid_sentence():
    text = (
        "The Treasury said on Monday that the new sanctions would target\n"
        "officials accused of abuses, and that more measures could follow\n"
        "if the talks in Oslo failed.\n"
        "Critics in Congress said the move came far too late to change\n"
        "anything on the ground.\n"
    )
    assert split_paragraphs(text) == [
        "The Treasury said on Monday that the new sanctions would target officials accused of "
        "abuses, and that more measures could follow if the talks in Oslo failed.",
        "Critics in Congress said the move came far too late to change anything on the ground.",
    ]


def test_a_wrapped_line_ending_in_an_abbreviation_or_before_lower_case_continues():
    text = (
        "The envoy met Mr.\n"
        "Maduro's aides in Caracas, where the U.S.\n"
        "embassy has been closed since 2019.\n"
    )
    assert split_paragraphs(text) == [
        "The envoy met Mr. Maduro's aides in Caracas, where the U.S. embassy has been closed "
        "since 2019."
    ]


def test_hyphenated_wrap_joins_without_a_space():
    text = "The deal was a long-\nawaited step for the farmers of the region.\n"
    assert split_paragraphs(text) == [
        "The deal was a long-awaited step for the farmers of the region."
    ]


def test_captions_stay_their_own_paragraphs():
    text = (
        "Photo: Protesters outside the embassy in Caracas (Reuters)\n"
        "The protest drew thousands of people who marched past the\n"
        "embassy.\n"
        "\n"
        "Supporters of the sanctions at a rally in Miami\n"
        "\n"
        "Organisers said the rally was the largest this year.\n"
    )
    assert split_paragraphs(text) == [
        "Photo: Protesters outside the embassy in Caracas (Reuters)",
        "The protest drew thousands of people who marched past the embassy.",
        "Supporters of the sanctions at a rally in Miami",
        "Organisers said the rally was the largest this year.",
    ]


def test_a_short_unpunctuated_line_before_text_is_a_heading():
    text = (
        "Senate votes on aid package\n"
        "WASHINGTON — The Senate voted 62-38 on Tuesday to approve the aid package, sending it\n"
        "to the House.\n"
    )
    assert split_paragraphs(text) == [
        "Senate votes on aid package",
        "WASHINGTON — The Senate voted 62-38 on Tuesday to approve the aid package, sending it "
        "to the House.",
    ]


def test_one_line_quotes_stay_their_own_paragraphs():
    text = (
        "The minister was blunt when asked about the tariffs on steel and\n"
        "aluminium.\n"
        "“We will not be bullied.”\n"
        "Officials later tried to soften the remark in a statement.\n"
    )
    assert split_paragraphs(text) == [
        "The minister was blunt when asked about the tariffs on steel and aluminium.",
        "“We will not be bullied.”",
        "Officials later tried to soften the remark in a statement.",
    ]


def test_one_paragraph_per_line_text_and_windows_line_ends():
    text = "First paragraph ends here.\r\nSecond paragraph ends here!\r\nThird?\r\n"
    assert split_paragraphs(text) == [
        "First paragraph ends here.",
        "Second paragraph ends here!",
        "Third?",
    ]


def test_empty_text_has_no_paragraphs():
    assert split_paragraphs("  \n\n \n") == []
