from paperfeed.wording import count, plural


def test_counts_agree_with_their_nouns() -> None:
    assert count(1, "paper") == "1 paper"
    assert count(0, "paper") == "0 papers"
    assert count(3257, "paper") == "3,257 papers"
    assert count(2, "person", "people") == "2 people"
    assert plural("comment", 1) == "comment" and plural("comment", 2) == "comments"
