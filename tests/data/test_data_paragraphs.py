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


def test_a_hard_wrapped_paragraph_breaking_right_after_a_sentence_is_joined():
    # each block is one paragraph wrapped at ~76 columns; the next word after each sentence-ending
    # line would not have fitted on it, so the break is the wrap's, not the writer's
    text = (
        "The sanctions took effect at midnight on Sunday and covered the oil company.\n"
        "Officials in Caracas said they would challenge the order in court and called\n"
        "it theft of national assets.\n"
        "\n"
        "Will the new measures work where the earlier rounds of sanctions failed?\n"
        "Few of the diplomats we spoke to in Bogota last week were willing to\n"
        "predict it.\n"
        "\n"
        "The envoy told reporters after the meeting that the talks were “over for now.”\n"
        "Negotiators from both sides left Oslo on Tuesday without setting a date for\n"
        "the next round.\n"
        "\n"
        'A spokesman for the ministry said the government would "respond in kind."\n'
        "Analysts in Beijing expected duties on soybeans, pork and aircraft parts to\n"
        "follow within days.\n"
    )
    assert split_paragraphs(text) == [
        "The sanctions took effect at midnight on Sunday and covered the oil company. Officials "
        "in Caracas said they would challenge the order in court and called it theft of national "
        "assets.",
        "Will the new measures work where the earlier rounds of sanctions failed? Few of the "
        "diplomats we spoke to in Bogota last week were willing to predict it.",
        "The envoy told reporters after the meeting that the talks were “over for now.” "
        "Negotiators from both sides left Oslo on Tuesday without setting a date for the next "
        "round.",
        'A spokesman for the ministry said the government would "respond in kind." Analysts in '
        "Beijing expected duties on soybeans, pork and aircraft parts to follow within days.",
    ]


def test_windows_line_ends_in_a_hard_wrapped_paragraph_breaking_after_a_sentence():
    text = (
        "Will the new measures work where the earlier rounds of sanctions failed?\r\n"
        "Few of the diplomats we spoke to in Bogota last week were willing to\r\n"
        "predict it.\r\n"
        "\r\n"
        "Officials in Caracas said they would challenge the order in court.\r\n"
    )
    assert split_paragraphs(text) == [
        "Will the new measures work where the earlier rounds of sanctions failed? Few of the "
        "diplomats we spoke to in Bogota last week were willing to predict it.",
        "Officials in Caracas said they would challenge the order in court.",
    ]


def test_a_one_line_quote_after_a_paragraph_wrapped_after_a_sentence_stays_apart():
    text = (
        'A spokesman for the ministry said the government would "respond in kind."\n'
        "Analysts in Beijing expected duties on soybeans, pork and aircraft parts to\n"
        "follow within days.\n"
        "“We will not be bullied.”\n"
        "Officials later tried to soften the remark in a statement.\n"
    )
    assert split_paragraphs(text) == [
        'A spokesman for the ministry said the government would "respond in kind." Analysts in '
        "Beijing expected duties on soybeans, pork and aircraft parts to follow within days.",
        "“We will not be bullied.”",
        "Officials later tried to soften the remark in a statement.",
    ]


def test_a_caption_after_a_paragraph_wrapped_after_a_sentence_stays_apart():
    # the caption is longer than the wrap column: it does not count towards it
    text = (
        "The sanctions took effect at midnight on Sunday and covered the oil company.\n"
        "Officials in Caracas said they would challenge the order in court and called\n"
        "it theft of national assets.\n"
        "Photo: Oil tankers wait off the coast near the port of Jose in Anzoategui state, "
        "Venezuela (Reuters)\n"
    )
    assert split_paragraphs(text) == [
        "The sanctions took effect at midnight on Sunday and covered the oil company. Officials "
        "in Caracas said they would challenge the order in court and called it theft of national "
        "assets.",
        "Photo: Oil tankers wait off the coast near the port of Jose in Anzoategui state, "
        "Venezuela (Reuters)",
    ]


def test_one_sentence_per_line_paragraphs_of_similar_length_are_not_joined():
    # no line breaks mid-sentence, so nothing shows a hard wrap, though no next word would fit
    # after the longest line
    lines = [
        "The United States froze all Venezuelan government assets on Monday.",
        "Caracas called the measure economic terrorism and recalled its envoy.",
        "Oil prices rose by more than two percent in early trading in London.",
        "Analysts expect further measures against the central bank this year.",
    ]
    assert split_paragraphs("\n".join(lines)) == lines


def test_hard_wrapped_paragraphs_separated_by_single_line_breaks_are_not_merged():
    # the first paragraph's last line is full, as a wrap after a sentence would be; the short
    # last line of the second shows that this block separates paragraphs by single line breaks
    text = (
        "Relatives in Jilib gave a different account of the strike. A man\n"
        "who said he was a cousin of one of the dead told a local radio\n"
        "station that the men were traders returning home from a market.\n"
        "Residents said the vehicle was hit twice.\n"
        "The military said it would review the reports but that it stood\n"
        "by its assessment of the strike.\n"
    )
    assert split_paragraphs(text) == [
        "Relatives in Jilib gave a different account of the strike. A man who said he was a "
        "cousin of one of the dead told a local radio station that the men were traders "
        "returning home from a market.",
        "Residents said the vehicle was hit twice.",
        "The military said it would review the reports but that it stood by its assessment of "
        "the strike.",
    ]
