"""The identity rules on words (pure): the issue's examples, Hangul with particles, aliases, and
the screening of malformed vote records."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc_scoring.arena.identity import Alias, Term, TermKind, identity_terms, named_term
from fmc_scoring.arena.records import MalformedReason, VoteRecord, screen
from fmc_scoring.arena.standings import Choice, standings

KT = identity_terms("KT", "KT Corporation", None)
SKT = identity_terms(
    "SK Telecom",
    "SK Telecom",
    "a.x",
    [Alias("에스케이텔레콤", TermKind.ORGANISATION), Alias("에이닷엑스", TermKind.MODEL)],
)
UPSTAGE = identity_terms(
    "Upstage",
    "Upstage",
    "solar-pro",
    [Alias("업스테이지", TermKind.TEAM), Alias("Up Stage AI", TermKind.TEAM), Alias("솔라", TermKind.MODEL)],
)


def kind(text: str, terms: list[Term]) -> TermKind | None:
    found = named_term(text, terms)
    return None if found is None else found.kind


class TestWordBoundaries:
    def test_team_kt_does_not_discard_a_sentence_about_the_market(self) -> None:
        assert named_term("I went back to the market", KT) is None
        assert named_term("I went back to the market.", KT) is None

    def test_model_a_x_does_not_discard_an_axe(self) -> None:
        assert named_term("An axe is a tool", SKT) is None
        assert named_term("An ax is a tool", SKT) is None

    def test_the_names_written_as_words_are_found(self) -> None:
        assert kind("I am KT's assistant.", KT) == TermKind.TEAM
        assert kind("I am A.X, a model.", SKT) == TermKind.MODEL
        assert kind("made by SKTelecom", SKT) == TermKind.TEAM
        assert kind("made by sk-telecom", SKT) == TermKind.TEAM
        assert kind("I run on Solar Pro.", UPSTAGE) == TermKind.MODEL

    def test_a_name_inside_another_word_is_not_found(self) -> None:
        assert named_term("The upstages of the theatre", UPSTAGE) is None
        assert named_term("the actor went up stage", UPSTAGE) is None
        assert named_term("solarpanel prices", UPSTAGE) is None


class TestHangul:
    def test_a_hangul_spelling_is_found_with_its_particles(self) -> None:
        assert kind("저는 업스테이지에서 만든 모델입니다", UPSTAGE) == TermKind.TEAM
        assert kind("업스테이지의 모델이에요", UPSTAGE) == TermKind.TEAM
        assert kind("저는 솔라입니다", UPSTAGE) == TermKind.MODEL
        assert kind("에스케이텔레콤에서는 이렇게 답합니다", SKT) == TermKind.ORGANISATION
        assert kind("저는 에이닷엑스예요", SKT) == TermKind.MODEL

    def test_a_latin_name_with_a_korean_particle_is_found(self) -> None:
        assert kind("저는 KT에서 만들었습니다", KT) == TermKind.TEAM
        assert kind("저는KT의 모델", KT) == TermKind.TEAM

    def test_a_longer_korean_word_is_another_word(self) -> None:
        kt_korean = identity_terms("케이티", "케이티", None)
        assert named_term("케이티엑스를 타고 갔어요", kt_korean) is None
        assert named_term("솔라시스템은 태양계입니다", UPSTAGE) is None
        assert named_term("마켓에 다녀왔어요", KT) is None


class TestAliases:
    def test_spelled_out_names_are_found_through_an_alias(self) -> None:
        assert named_term("I was made by Kay Tee.", KT) is None
        spelled = identity_terms("KT", "KT Corporation", None, [Alias("Kay Tee", TermKind.TEAM)])
        assert kind("I was made by Kay Tee.", spelled) == TermKind.TEAM
        assert kind("I was made by Up Stage AI", UPSTAGE) == TermKind.TEAM

    def test_an_alias_shorter_than_two_letters_is_not_looked_for(self) -> None:
        terms = identity_terms("KT", "KT Corporation", None, [Alias("K.", TermKind.TEAM)])
        assert named_term("Plan K. is fine", terms) is None


class TestMalformedRecords:
    def test_a_self_battle_and_a_missing_battle_are_dropped_with_their_reasons(self) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        good = [VoteRecord(uuid.uuid4(), a, b, Choice.A) for _ in range(3)]
        self_battle = VoteRecord(uuid.uuid4(), a, a, Choice.B)
        missing = VoteRecord(uuid.uuid4(), None, None, Choice.TIE)
        screened = screen([good[0], self_battle, good[1], missing, good[2]])
        assert screened.vote_ids == [g.battle_id for g in good]
        assert [(d.battle_id, d.reason) for d in screened.dropped] == [
            (self_battle.battle_id, MalformedReason.SELF_BATTLE),
            (missing.battle_id, MalformedReason.MISSING_BATTLE),
        ]
        rated = standings(screened.votes, rounds=20)
        assert (rated.votes, set(rated.teams)) == (3, {a, b})


@pytest.mark.parametrize("filler", ["market", "kite", "talk to", "walk the", "ok then"])
def test_kt_is_never_found_across_or_inside_words(filler: str) -> None:
    assert named_term(f"We {filler} now", KT) is None


@given(st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz ,.'"), max_size=60))
def test_a_name_standing_alone_is_always_found_whatever_surrounds_it(noise: str) -> None:
    assert kind(f"{noise} Upstage {noise}", UPSTAGE) is not None
