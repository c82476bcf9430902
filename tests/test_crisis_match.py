"""The crisis matcher: its notation, its normalising, and the tricky cases of the shipped rules."""

from __future__ import annotations

import copy
import functools
import re

import pytest
from crisis_sets import DATA, read_set

from companion.crisis_match import (
    Matcher,
    PatternError,
    Rules,
    near_spellings,
    normalise,
    pattern_regex,
)
from companion.safety import find_by_rules, find_crisis, load_crisis

TWELVE = "one two three four five six seven eight nine ten eleven twelve"


def matches(pattern: str, text: str, **rules: object) -> bool:
    matcher = Matcher(Rules(patterns={"test": (pattern,)}, **rules))  # type: ignore[arg-type]
    return matcher.find(text) is not None


# ---------------------------------------------------------------- the notation
@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("(want|going) to (die|end (it|my life))", "I am going to end my life", True),
        ("(want|going) to (die|end (it|my life))", "I want to end the meeting", False),
        ("want to [just] die", "want to just die", True),
        ("want to [just] die", "want to die", True),
        ("want to just? die", "want to die", True),
        ("suicid*", "feeling suicidal", True),
        ("suicid*", "a suicide note", True),
        ("hurt myself *ing", "hurt myself falling", True),
        ("hurt myself *ing", "hurt myself again", False),
        ("want ... die", "want to just really die", True),
        ("want ... die", "want to go and see it, then die", False),  # "..." is at most four words
        ("end it $", "I will end it.", True),
        ("end it $", "I will end it and go", True),
        ("end it $", "I will end it with him", False),
        ("# kms", "ran 5 kms today", True),
        ("die", "diet", False),  # whole words
        ("die", "dieselpunk", False),
        ("kill myself", "killmyself", True),  # words run together
        ("kill myself", "skill myself", False),
        # "~": both in one sentence, up to twelve words apart, across commas
        ("rope ~ thinking about it", "the rope is in the shed, and I keep thinking about it", True),
        ("rope ~ thinking about it", "the rope is in the shed. I keep thinking about it", False),
        ("rope ~ it", f"rope {TWELVE} more it", False),
        ("rope ~ it", f"rope {TWELVE} it", True),
    ],
)
def test_the_notation(pattern: str, text: str, expected: bool) -> None:
    assert matches(pattern, text) is expected


def test_named_pieces_come_from_define() -> None:
    assert matches("{wish} die", "I wanna die", define={"wish": "(want to|wanna)"})
    assert not matches("{wish} die", "I need to die", define={"wish": "(want to|wanna)"})


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("(want to die", "never closed"),
        ("want to die)", "unexpected"),
        ("(a|)", "empty choice"),
        ("{nowhere} to go", "lacks"),
        ("[maybe]", "nothing at all"),
        ("...", "nothing at all"),
        ("'", "no letters"),
    ],
)
def test_bad_patterns_say_why(pattern: str, why: str) -> None:
    with pytest.raises(PatternError, match=why):
        pattern_regex(pattern)


def test_a_piece_defined_through_itself_is_an_error() -> None:
    with pytest.raises(PatternError, match="itself"):
        pattern_regex("{a}", {"a": "x {b}", "b": "{a}"})


# ---------------------------------------------------------------- normalising
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I DON\u2019T want", "i dont want"),
        ("Quiero morir, ya", "quiero morir , ya"),
        ("Ich möchte sterben", "ich mochte sterben"),
        ("killl myselfff", "kil myself"),  # doubled letters fold
        ("i want to d i e", "i want to die"),  # spaced letters join
        ("k1ll my$elf", "kil myself"),  # look-alike characters inside words
        ("i want t0 die", "i want to die"),
        ("self-harm", "self harm"),
        ("죽고 싶어요.", "죽고 싶어요 ."),  # Hangul is kept whole
        ("covid19 and 3pm", "covid19 and 3pm"),  # numbers stay numbers
        # what a speech recogniser writes: fillers, a word said twice, "like" in between
        ("um i i want to uh end it", "i want to end it"),
        ("thinking about like jumping off the the bridge", "thinking about jumping of the bridge"),
        ("i like dogs", "i like dogs"),  # "like" as a verb stays
        ("summer umbrella", "sumer umbrela"),  # only whole fillers go
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_near_spellings_repair_one_slip_but_not_a_plural() -> None:
    spelling = near_spellings(["myself", "suicide"])
    assert spelling["myslef"] == "myself"  # two letters swapped
    assert spelling["sucide"] == "suicide"  # one missing
    assert spelling["suiside"] == "suicide"  # one changed
    assert "suicides" not in spelling  # an ending added is another word


# ---------------------------------------------------------------- setting matches aside
def test_a_negation_or_another_person_just_before_sets_a_match_aside() -> None:
    rules = {"before": ("never", "not", "he")}
    assert not matches("hurt myself", "I would never hurt myself", **rules)
    assert not matches("hurt myself", "I would never ever hurt myself", **rules)
    assert not matches("wanted to die", "he wanted to die", **rules)
    assert matches("hurt myself", "never again, I hurt myself", **rules)  # another clause
    assert matches("hurt myself", "not sure why I hurt myself", **rules)  # not about the hit


def test_someone_elses_words_are_set_aside_unless_the_writer_speaks_of_themselves() -> None:
    rules = {
        "others": ("(she|my friend) (told me|said|wants|wanted)",),
        "speaker": ("i", "me", "but"),
    }
    assert not matches("end it all", "My friend told me she wanted to end it all", **rules)
    assert not matches("want to die", "my friend said, honestly, she wanted to die", **rules)
    assert matches("want to die", "she said I just want to die", **rules)  # the writer again
    assert matches("want to die", "she told me it gets better but I want to die", **rules)
    assert matches("better off without me", "she said they'd be better off without me", **rules)
    assert matches("end it all", "she left and then, later, I wanted to end it all", **rules)


def test_a_long_typed_text_is_not_tidied_as_speech() -> None:
    spoken = "i i want to um die " * 200
    typed = "I want to, um, go. " * 200
    assert "i want to die" in normalise(spoken)
    assert "um" in normalise(typed)


def test_an_ignore_pattern_that_covers_the_end_of_a_match_sets_it_aside() -> None:
    rules = {"ignore": ("cut myself (some|a) (slack|break)",)}
    assert not matches("i cut myself", "I cut myself some slack today", **rules)
    assert matches("i cut myself", "I cut myself again", **rules)
    assert matches("i cut myself", "I cut myself. Then I cut myself a break", **rules)


def test_a_rest_of_sentence_at_the_end_of_an_ignore_pattern_reaches_the_sentence_end() -> None:
    rules = {"ignore": ("years ago ~",)}
    assert not matches("hurt myself", "years ago i used to hurt myself a lot", **rules)
    assert not matches("hurt myself", "years ago i would hurt myself", **rules)
    assert matches("hurt myself", "years ago. now i hurt myself", **rules)  # a new sentence
    assert matches("hurt myself", f"years ago {TWELVE} i hurt myself", **rules)  # too far


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("i m going to die", "im going to die"),  # filed under "i", met at "im"
        ("i wanna die", "iwannadie"),
        ("i want to die", "iwant to die"),
        ("no point living", "nopoint living"),
    ],
)
def test_a_pattern_under_a_short_first_word_is_tried_where_it_is_run_together(
    pattern: str, text: str
) -> None:
    assert matches(pattern, text)
    assert not matches(pattern, "in a meeting about it")


def test_sets_aside_tells_a_rule_that_chose_quiet_from_a_missing_pattern() -> None:
    matcher = Matcher(
        Rules(
            patterns={"t": ("hurt myself",)},
            before=("never", "he"),
            ignore=("cut myself (some|a) (slack|break)",),
            history=("years ago",),
            present=("again",),
        )
    )
    for quiet in (
        "I would never hurt myself",
        "I cut myself some slack",
        "Years ago I wanted to be gone. I am well now.",
    ):
        assert matcher.find(quiet) is None and matcher.sets_aside(quiet), quiet
    for missed in ("I have a plan and a date now", "Years ago, and again now, I hurt", ""):
        assert not matcher.sets_aside(missed), missed


def test_an_ordinary_object_or_tiredness_alone_sets_nothing_aside() -> None:
    # A set-aside also quiets the learnt second opinion: "the pain", "my phone" or "I'm
    # exhausted from" anywhere in a text must not do that on its own.
    table = load_crisis()
    matcher = Matcher(table.rules)
    for text in (
        "The pain is unbearable tonight.",
        "I'm exhausted from the fighting inside my head.",
        "It's been three weeks since the funeral and all I can think about is him.",
    ):
        assert not matcher.sets_aside(text), text
    for quiet in ("My keys have disappeared", "I looked up my symptoms again"):
        assert matcher.sets_aside(quiet), quiet


def test_korean_matches_inside_a_longer_word() -> None:
    assert matches("죽고 싶", "요즘매일죽고싶어요")
    assert not matches("죽고 싶", "배고파 죽겠다")


def test_a_long_text_is_checked_by_the_index_not_every_pattern_everywhere() -> None:
    matcher = Matcher(Rules(patterns={"t": ("want to die", "end (it|my life)")}))
    assert matcher.find("ordinary words " * 20_000 + "I plan to end my life") is not None
    compiled = matcher._patterns._compiled  # only the candidates were ever compiled
    assert set(compiled) == {1}


def test_passing_over_patterns_by_their_second_word_never_loses_a_match() -> None:
    matcher = Matcher(load_crisis().rules)
    # every fourth labelled line (~10,000, in every language and style; all of them took
    # 25 s of the suite and grow with each writer's check)
    texts = [line for path in sorted(DATA.glob("*.txt")) for line in read_set(path.stem)][::4]
    texts += ["kill myselfnow", "i want to,die", "end it", "im gonna kms lol", "i m done"]
    for index in (matcher._patterns, matcher._ignore):
        unfiltered = copy.copy(index)
        unfiltered.seconds = [None] * len(index.seconds)
        unfiltered._memo, unfiltered._pairs = {}, {}
        for text in texts:
            norm = normalise(text, spelling=matcher._spelling)
            found = [(i, m.span()) for i, m in index.matches(norm)]
            assert found == [(i, m.span()) for i, m in unfiltered.matches(norm)], text


# ---------------------------------------------------------------- the shipped rules
@pytest.mark.parametrize(
    "text",
    [
        "I want to kill myself",
        "i want to kil myself",
        "im gonna killmyself",
        "i wanna kill my self",
        "i want to k1ll myself",
        "kms",
        "I cut myself again last night",
        "I relapsed and burned myself with a lighter",
        "There's no point in living anymore",
        "Everyone would be better off without me",
        "I hope I never wake up",
        "I've been saving up my pills",
        "Goodbye everyone, I'm sorry for everything",
        "This is my last entry.",
        "I want to unalive myself",
        "thinking about sucide again",
        "Quiero morir",
        "Je veux juste mourir",
        "Ich will nicht mehr leben",
        "Não quero mais viver",
        "자살하고 싶어",
        # round 14 families, in words of our own
        "not sure I'll make it through the month and I don't even want to",
        "i think im ready to give up on life",
        "nearly threw myself in front of the bus this morning",
        "i want the drinking to finish me",
        "praying the cancer kills me for me",
        "since she died all i want is to be with her again",
        "sleeping pills and a bottle of wine. that's my plan for tonight",
        "my therapist asked if i think about killing myself. i said no. i lied.",
        "i dont expect to see another birthday",
        "Quiero no despertar mañana",
        "Je voudrais ne plus me réveiller",
    ],
)
def test_crisis_language_is_found(text: str) -> None:
    assert find_crisis(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "This deadline is killing me",
        "I cut myself some slack and skipped the gym",
        "I hurt myself falling off my bike",
        "I could kill for a coffee",
        "I'm dying to see the film",
        "The film is about a man who wants to die after the war",
        "My grandmother died last week and I miss her",
        "My uncle took his own life years ago and we talked about it in therapy",
        "I killed it at the presentation",
        "I'm dead tired",
        "Cut the onions and garlic finely",
        "I cut myself shaving",
        "I'm not suicidal, just exhausted",
        "I'd rather die than sing karaoke",
        "Ran 5 kms before work",
        "I want to dye my hair purple",
        "I'm going to end things with Sam",
        "I can't go on a date this week",
        "배고파 죽겠다",
        "축구에서 자살골을 넣었다",
        "I threw myself down on the sofa and slept",
        "It's our anniversary and I just want to be with her.",
        "I'm not doing another winter of this commute.",
        "Taking both of us out for dinner tonight.",
        "counting down the days until I'm out of here, new job starts Monday!",
        "I looked up which rooftop bars are open on Sunday.",
        "Checked the train timetable, planning a trip to Leeds.",
        "She asked if I wanted tea and I said no. I do now though.",
        "Pizza, wine and a film. That's the plan for Friday.",
        "",
        "   ",
    ],
)
def test_ordinary_words_are_not(text: str) -> None:
    assert find_crisis(text) is None


# Round 15 (precision): everyday uses of the words of a crisis family, each beside a crisis
# line of the same family that the rules must still find. Checked on the rules alone (the
# learnt model is retrained apart).
@pytest.mark.parametrize(
    "text",
    [
        "I have a plan and a date for the wedding!",  # a plan for an occasion
        "I have a plan now for paying off the credit card.",
        "I've chosen the date, March 3rd, for the baby shower.",
        "Tomorrow is the day we move into the new flat.",  # the day of something
        "Going to be with grandma for the weekend, she needs help with the garden.",
        "I'm going to be with my dad at the hospital for his knee operation tomorrow.",
        "I'm going home for good after the contract ends, back to Leeds.",
        "There's no point in going on with this diet.",  # carrying on with a task
        "Honestly no point carrying on with the book club, nobody reads the books.",
        "Thinking about ending things with Sam.",  # a relationship
        "Thinking about jumping ship to a new company.",  # jumping idioms
        "I dream about jumping out of a plane, skydiving is my bucket list.",
        "The team would be better off without me as goalkeeper honestly.",  # a role
        "My dog is better off without me fussing over him all day.",
        "I hope the bus doesn't stop at every corner today.",  # traffic
        "I hope a car doesn't hit me on the bike lane, it's so busy.",
        "Counting down until I'm gone on holiday.",  # counting down to a trip
        "I'll be gone for good, moving to Australia in April.",
        "This is my last day on earth as a single woman, hen party tonight!",
        "I want to go to sleep and not wake up until noon.",  # sleeping in
        "I don't care if I wake up late tomorrow, it's Saturday.",
        "Don't expect to see another summer like that one.",
        "I'll make it through the exam, I don't want to but I will.",
        "Planning my exit from the meeting early to catch the train.",
        "I took a lot of ibuprofen for my back this week, need to see the doctor.",
        "I wish I'd never been born in February, my birthday is always cold.",
        "Wished I could disappear during the awkward silence at dinner.",
        "I can't see myself getting old in this city, want to retire by the sea.",
        "I'd rather be dead than be seen in those shoes.",
        "Giving away my books before the move, I won't need them in a tiny flat.",
        "Gave away my books to the charity shop, felt lighter clearing the shelves.",
        "Bought rope for the tent today, I know what it's for: the camping trip.",
        "Writing goodbye letters to my students at the end of the school year.",
        "The knife slipped and I cut my thumb cooking dinner.",
        "I hit my head on the kitchen cupboard over and over this week, I need to close it.",
        "my friend relapsed and cut again, i stayed on facetime w her",  # another person
        "My grandmother always wanted to die at home, and she did.",
        "When I was depressed I wanted to die. Now I'm glad I didn't.",  # history
        "Used to think everyone would be better off without me. Now I know it was the illness.",
        "Soon I won't be a problem anymore for the landlord, we're moving out.",
        "I'm out of everyone's way, working from the attic.",
        "I won't be around for the meeting tomorrow, dentist appointment.",
        "Je vais mourir de rire avec cette série.",
        "Je veux en finir avec ce dossier avant vendredi.",
        "J'ai pris mes médicaments comme d'habitude et un verre de vin.",
        "Quiero acabar con todo el trabajo pendiente antes del viernes.",
        "Vou acabar com tudo que falta do relatório amanhã.",
        "Não quero acordar cedo amanhã, é domingo.",
        "Ninguém vai sentir minha falta na festa do escritório.",
        "Ich möchte für immer verschwinden, am liebsten nach Italien, für immer Urlaub.",
        "약을 한꺼번에 사 둘 거야, 약국이 멀어서.",
        "사라지고 싶을 만큼 창피했어.",
        "I'm thinking about not being here next year, I want to travel.",
        "Me voy a matar estudiando para este examen.",
        "Je vais me tuer à la tâche cette semaine.",
        "Das Buch endet mit einem Selbstmord, sehr traurig, aber großartig geschrieben.",
        "몇 년 전엔 정말 죽고 싶었는데 지금은 살아 있어서 다행이다.",
    ],
)
def test_everyday_uses_of_a_crisis_familys_words_pass_the_rules(text: str) -> None:
    assert find_by_rules(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "I have a plan and a date.",
        "Tomorrow is the day. I've decided.",
        "I want to go home to God now.",
        "There's no point in going on with this life.",
        "Thinking about ending it all tonight.",
        "I keep thinking about jumping from the bridge.",
        "The kids would be better off without me in their lives.",
        "I hope a car hits me on the way home.",
        "Counting down the days until I can end it.",
        "I don't care if I wake up tomorrow.",
        "I'd rather be dead than go back to that house.",
        "I wish I'd never been born.",
        "I don't expect to see another summer.",
        "Gave away my guitar and my books, I won't need them.",
        "I want to die at home tonight, in my bed.",
        "The urge to cut came back tonight and I gave in.",
        "I hit my head against the wall over and over until it bled.",
        "I used to think about dying, and now the thoughts are back.",
        "Planning my exit from this world.",
        "I'll be out of everyone's way soon.",
        "Je veux en finir avec la vie.",
        "Quiero acabar con mi vida.",
        "Vou acabar com tudo hoje.",
        "Não quero mais acordar.",
        "I'm thinking about not being here next year.",
        "Me voy a matar esta noche.",
        "Je vais me tuer ce soir.",
        "Ich denke an Selbstmord.",
        "죽고 싶어.",
    ],
)
def test_the_crisis_side_of_a_narrowed_family_is_still_found(text: str) -> None:
    assert find_by_rules(text) is not None


def test_a_hit_names_the_pattern_never_the_words() -> None:
    hit = find_crisis("I want to die, my secret is out")
    assert hit is not None and "secret" not in str(hit)
    assert re.match(r"\w+: ", str(hit))


# A joke or a correction said in the next sentence ([ignore] after): it takes back only the
# sentence right before it, and only when it is all that sentence says.
def test_a_jest_in_the_next_sentence_takes_back_the_one_before() -> None:
    matcher = Matcher(
        Rules(patterns={"t": ("want to die",)}, after=("(just )?kidding", "(lol )?jk"))
    )
    assert matcher.find("I want to die. (Kidding.)") is None
    assert matcher.find("i want to die lol. jk") is None
    assert matcher.find("I want to die. Kidding aside, I mean it.") is not None
    assert matcher.find("Kidding. I want to die.") is not None
    assert matcher.find("I want to die. Not kidding.") is not None
    assert matcher.find("I want to die. Really. Kidding.") is not None  # two sentences on
    assert matcher.find("I want to die") is not None


@functools.lru_cache(maxsize=1)
def shipped_matcher() -> Matcher:
    """The shipped rules, read once for the tests that only ask them (~0.5 s each)."""
    return Matcher(load_crisis().rules)


@pytest.mark.parametrize(
    "text",
    [
        "I want to die. (Kidding.)",
        "this meeting, i want to die. jk",
        "Ugh I could kill myself. Just joking!",
        "Quiero morirme. Es broma.",
        "Je veux mourir. Je plaisante.",
    ],
)
def test_a_jest_after_sets_a_shipped_match_aside(text: str) -> None:
    assert shipped_matcher().find(text) is None


@pytest.mark.parametrize(
    "text",
    ["I want to die. Not kidding.", "I want to die. I'm not joking.", "Kidding. I want to die."],
)
def test_a_jest_that_is_not_one_sets_nothing_aside(text: str) -> None:
    assert shipped_matcher().find(text) is not None


def test_a_jest_walked_back_in_turn_sets_nothing_aside() -> None:
    matcher = Matcher(Rules(patterns={"t": ("want to die",)}, after=("jk",)))
    assert matcher.find("I want to die. jk. sort of. not really.") is not None
    assert matcher.find("I want to die. jk. Or am I.") is not None


# Round 16 (recall): oblique and planning families (what is ready, where and when, goodbyes,
# arrangements, a wish said aside, self-harm the everyday way, es/fr/de/pt/ko), each tried on
# new wordings, beside everyday lines with the same words that the rules must pass.
ROUND_16_CRISIS = [
    "I won't be around much longer.",
    "Not going to be here to read this journal, so this is the last page.",
    "I'll be gone for good by Friday.",
    "I'm ready to leave this world.",
    "I've made peace with dying.",
    "I know which bridge I'll use.",
    "I've worked out where and when I'd do it.",
    "J'ai déjà trouvé le pont.",
    "Ya elegí el puente.",
    "Ich habe mir schon die Brücke ausgesucht.",
    "Ich springe heute Nacht von der Brücke.",
    "The pills are right here, I keep taking them out and counting.",
    "Kept holding the pills and thinking how easy it would be.",
    "My dad's rifle would make it quick.",
    "Trying to talk myself out of it, the rope is in the shed.",
    "Swallowing all of them tonight.",
    "If I took all of my meds at once would it be enough?",
    "A bottle of wine and some pills, that's my evening.",
    "How many paracetamol is too many?",
    "¿Cuántas pastillas harían falta para no despertar?",
    "Combien de cachets il faut pour mourir ?",
    "Quantos comprimidos seriam necessários?",
    "Wie viele Tabletten bräuchte ich?",
    "약 몇 알이면 죽을 수 있을까",
    "Estoy juntando pastillas para el día que no pueda más.",
    "Guardei comprimidos para quando tiver coragem.",
    "Driving to the lake tonight with the pills.",
    "Booked a hotel room so my kids won't have to find me... so nobody I love has to find me.",
    "Wondering how long it would take anyone to find me.",
    "My plan is to drive off the cliff road.",
    "Part of me wants to fall asleep on the railway line.",
    "Put the belt around my neck again tonight, just practising.",
    "Going to swerve the car so it looks like an accident.",
    "I keep thinking about steering into oncoming traffic.",
    "My safety plan went in the bin today.",
    "Threw away my safety plan.",
    "I lied about the safety plan at my appointment.",
    "Don't want to stop myself this time.",
    "I hid the razors from myself.",
    "I'm frightened of what I could do to myself tonight.",
    "Told my brother I love him since it's the last time he'll hear it.",
    "Sorry everyone, I really tried.",
    "Rewriting my goodbye letter again.",
    'Wrote "I\'m sorry, goodbye" on a card for my parents to find.',
    "Asked my neighbour to feed my cat, just in case.",
    "It would be simpler if I just stopped existing.",
    "I hope I go to sleep and it's all over.",
    "If something happens to me tonight I won't fight it.",
    "Wouldn't even move out of the way if a lorry was coming.",
    "I'd welcome it if a truck hit me.",
    "Can't wait till I'm dead.",
    "I want to walk into the woods and never be found.",
    "No reason to keep living.",
    "Why should I keep living?",
    "Don't see myself alive next year.",
    "I don't have many more days left in me.",
    "I don't hate my life, honestly I'm done with it.",
    "I've lived long enough and should just go.",
    "Way out of this life, that's what I want.",
    "If the illness doesn't kill me I'll end it myself.",
    "I'm going to make it stop for good.",
    "Thoughts of ending it all keep coming.",
    "I'm done trying to stay alive.",
    "Removing myself from the world would be a kindness.",
    "They'd be relieved to be rid of me.",
    "My mum would be happier if I were dead.",
    "My dad wants me to die.",
    "The voices keep telling me to kill myself.",
    "I'd rather die than go back to the psych ward.",
    "Punched the wall till my knuckles bled.",
    "Digging my nails into my arms until it bleeds.",
    "Bit my wrist hard enough to bleed.",
    "Starved myself again this week.",
    "I only cut a little today.",
    "Small cuts don't really count.",
    "i dont wanna be alive anymor",
    "i dont want to be alvie anymore",
    "no point in livin",
    "nobody would care if i was ded",
    "Quisiera dormirme y no despertar nunca.",
    "인생을 끝내고 싶어.",
    "Rehearsing the suicide in my mind again.",
    "I wish my overdose had worked.",
    "It would be so peaceful to not exist.",
    "Everyone would be better if I was gone.",
    "Fighting the urge to kill myself every night.",
    "Once everyone's asleep I'm going to do it.",
    "I keep imagining myself jumping in front of the train.",
    "Sat in the bath with a razor for hours.",
    "wanna disappear forever",
    "What if I just didn't exist anymore?",
    "Imagining the note I'd leave.",
    "It's time to end it all for good.",
]


ROUND_16_EVERYDAY = [
    "I'll be gone for good after graduation, moving to Glasgow.",
    "My grandad has made his peace with dying, the hospice is lovely.",
    "I know which bridge I'll use to cycle to work now.",
    "J'ai choisi le restaurant pour samedi.",
    "Ich habe mir schon das Hotel ausgesucht.",
    "Die Kinder springen im Sommer vom Steg in den See.",
    "The hero jumps from the bridge in the last scene.",
    "I keep taking the batteries out of the smoke alarm, it keeps beeping.",
    "Held the razor and thought about shaving my beard off.",
    "The train would make it quick to get to Leeds.",
    "I talked myself out of it, no new shoes this month.",
    "Taking all of these to the charity shop tonight.",
    "I took all of my vitamins this morning.",
    "How many eggs is too many for one cake?",
    "¿Cuántas pastillas de ibuprofeno puedo tomar al día?",
    "Combien de cachets de paracétamol par jour au maximum ?",
    "Wie viele Tabletten darf ich am Tag nehmen?",
    "Driving to the lake tomorrow with the kids.",
    "So nobody has to find me at the airport, I'll wait by the cafe.",
    "How long would it take for someone to find my keys in this mess.",
    "My plan is to walk into the sea for a swim every morning this summer.",
    "I fell asleep on the train home and missed my stop.",
    "Tied the scarf around my neck, it's freezing.",
    "The insurance adjuster said the crash looked like an accident, obviously.",
    "Steering into the skid is what they teach you on ice.",
    "I printed my safety plan and put it on the fridge.",
    "My old safety plan is in the drawer, I still use it.",
    "Threw away the old receipts.",
    "I hid the chocolate from myself.",
    "Scared of what I might say to my boss tomorrow.",
    "Told grandma I love her because she loves hearing it.",
    "Sorry everyone, I tried to get tickets but they sold out.",
    "Rereading my farewell card from work, so sweet.",
    "Left a birthday card for her to find under the pillow.",
    "Asked my neighbour to feed my cat while I'm away next week.",
    "I hope I fall asleep fast tonight, big day tomorrow.",
    "If something happens to my flight I'll call you.",
    "I'd welcome it if my boss gave me a raise.",
    "Can't wait till I'm done with exams.",
    "I want to hide in the woods and never be found by my emails.",
    "I don't see myself living here by next year, we're saving for a house.",
    "I have a few more days in Lisbon.",
    "I don't hate my job, I'm just done with it.",
    "I've lived long enough in London to know the buses.",
    "Going to make it stop raining with my rain dance, ha.",
    "Thinking of ending things with Tom.",
    "I'm done trying to survive on instant noodles.",
    "Removed myself from the group chat.",
    "They'd be relieved to be rid of the old sofa.",
    "My mum wants me to call her more.",
    "My brain keeps telling me to eat cake.",
    "I'd rather die than go to that karaoke night.",
    "I punched the bag at the gym until my arms ached.",
    "Bit my lip hard while concentrating.",
    "Starved myself of sleep this week with revision.",
    "I cut a little off my fringe today.",
    "Cut my arm on the fence after the argument with the hedge trimmer.",
    "i dont want to live here anymore",
    "Fighting the urge to eat all the biscuits.",
    "I keep imagining myself walking into the new office on Monday.",
    "Sat in the bath with a glass of wine for hours.",
    "I wish I could disappear forever into this book.",
    "Imagining the note I'd leave for the new tenants.",
    "It's time to end the subscription for good.",
    "Sometimes I wonder how peaceful it would be to live by the sea.",
    "Everyone's lives would improve if I learned to cook.",
    "그냥 다 끝내고 싶어, 숙제 너무 많아.",
    "일을 다 끝내고 싶어.",
    "Tonight might be the night we see the northern lights.",
    "I sat on the edge of the pool every evening this week.",
    "I keep going back to the cliff path for the views.",
    "Counting the trains from the platform edge with my nephew, he loves it.",
    "Part of me hoped he'd call.",
]


# Round 16b (recall): plans told as made, lookups and questions of whether it hurts, being gone
# by a day, last entries, the means at hand, following someone who died (es/fr/de/pt/ko).
ROUND_16B_CRISIS = [
    "I've made a plan for when I'd do it and how.",
    "Got it all worked out, the time and the place.",
    "Googling lethal overdose doses again.",
    "I looked up which bridge would be high enough.",
    "Searched whether hanging hurts.",
    "Would it hurt to bleed out?",
    "Nearly did it last night.",
    "I'm thinking about trying again.",
    "Tried to kill myself in March, I'll try again.",
    "Everyone would be happier off with me dead and buried.",
    "I'd be better off dead.",
    "I've had enough of existing.",
    "I just want to let myself slip away.",
    "Going to drink till I die.",
    "I'm just waiting to die.",
    "life aint worth livin",
    "i dont wanna live no more",
    "If I'm gone by Monday, please don't blame yourselves.",
    "It'll all be over for me soon.",
    "I'll be gone soon anyway.",
    "No point buying a new winter coat, I won't be around to need it.",
    "I won't be needing my therapy appointment after this week.",
    "I don't think I'll need this journal after tonight.",
    "I think this is the last entry I'll ever write here.",
    "Please don't let me make it to the morning.",
    "Somebody stop me, I have the pills in my hand.",
    "I keep hoping for a lorry to hit me.",
    "Thinking about steering my car off the bridge.",
    "Tempted to swerve into oncoming traffic on the motorway.",
    "Driving fast hoping I'll crash.",
    "Whoever would find my body, I'm sorry.",
    "How peaceful it would be to just stop existing.",
    "Can't find one reason to keep living.",
    "I'm unsafe with myself right now.",
    "I wouldn't mind not waking up.",
    "The only thing keeping me here is my dog.",
    "When my dad dies, I'm gone too.",
    "I miss him so much I want to join him.",
    "If there's a heaven I want to go there now.",
    "Won't make it to my next birthday, I've decided.",
    "J'ai assez de cachets pour ne plus me réveiller.",
    "J'ai décidé de sauter du pont.",
    "J'ai acheté une corde, je sais où je vais le faire.",
    "Compré una cuerda y sé para qué.",
    "Quiero que todo se acabe ya.",
    "Tenho um plano para tirar a minha vida.",
    "Ich hab mir die Stelle ausgesucht.",
    "Ich habe mir überlegt, wie ich es machen würde.",
    "오늘밤 다 끝낼 거야",
    "나만 없으면 다들 행복할 거야",
    "killin myself is all i think about",
]


ROUND_16B_EVERYDAY = [
    "I made a plan for how I'd do it: the garden first, then the shed.",
    "I know when and where, the party is at eight at Sam's.",
    "Researching overdose amounts for my pharmacology exam.",
    "I googled whether jumping on a trampoline hurts knees.",
    "Would it hurt to ask for a raise?",
    "I almost did it today, nearly bought the shoes.",
    "Thinking about trying again for a baby.",
    "I'd be better off dead tired than late.",
    "I've had enough of living out of boxes.",
    "I'm going to let myself sink into this sofa all weekend.",
    "Drinking until I pass out is not the plan for Saturday.",
    "Waiting to die of boredom in this meeting lol.",
    "Life isn't worth it without good coffee.",
    "If I'm gone by Friday, water the plants please, the flight is early.",
    "I won't be around to take the parcel, leave it with the neighbour.",
    "I won't need my appointment next week, the rash cleared up.",
    "This is the last night I'll write here, moving to a new notebook tomorrow.",
    "Please don't let me make it to morning without finishing this essay.",
    "Someone stop me from buying more plants.",
    "Hoping for the bus to come soon.",
    "Crossing into oncoming traffic is how the accident happened to my uncle.",
    "Who would find my keys in this mess.",
    "How peaceful it would be to be gone on holiday right now.",
    "Not a single reason to keep going to that club.",
    "Stopped being afraid of flying.",
    "I wouldn't mind dying my hair purple.",
    "The only thing stopping me is my budget.",
    "Once my mum passes the exam I'm going too, we'll celebrate.",
    "I miss her so much, I want to visit her in Spain.",
    "If there's a heaven I want to go to the one with dogs.",
    "Not going to make it to my birthday dinner, I've decided to work.",
    "J'ai prévu de sauter en parachute samedi.",
    "J'ai acheté une corde pour la tente.",
    "Compré una cuerda para tender la ropa.",
    "Quiero que todo se acabe bien en la boda.",
    "Ich habe mir einen Ort für den Urlaub ausgesucht.",
    "오늘 밤에 숙제 다 끝낼 거야.",
]


# Round 16c (recall): written down, stockpiled, promised away, lied about to a clinician,
# calling to me, the next time told, beside everyday lines with the same words.
ROUND_16C_CRISIS = [
    "Wrote down exactly where I'm going to do it.",
    "Wrote out the plan, time and place.",
    "Every time I close my eyes I see myself falling.",
    "It would be so easy to let go of the wheel on the motorway.",
    "I'm checking out before it gets better.",
    "I've been stockpiling my pills for weeks.",
    "Sat in the car in the garage thinking about the engine.",
    "I want someone to kill me so I don't have to.",
    "My safety plan says call my friend but I'm not going to use it.",
    "The nurse asked if I had a plan and I lied, I do.",
    "Told the doctor I'm not suicidal so she won't admit me.",
    "I can't promise anyone I'll stay safe tonight.",
    "All I want is for my life to be over.",
    "I've made up my mind to die.",
    "Every reason I had to stay alive is gone.",
    "i just wanna be ded",
    "dont want to wake up tomorrow or ever",
    "How many sleeping pills does it take?",
    "Nobody cares if I live or die, so why should I.",
    "I wish I had the nerve to go through with it.",
    "Already dead inside, might as well finish the job.",
    "No one's going to talk me out of it this time.",
    "Next time I'll take more pills.",
    "Next time I won't put them back.",
    "Held the blade for an hour tonight.",
    "Stared at the pills for way too long tonight.",
    "Ran a bath and thought about not coming up.",
    "Sat with the razor for hours.",
    "Thinking of stopping my insulin and letting it happen.",
    "I want a way to die that looks like an accident.",
    "I'm going to cut until it's over.",
    "Looking up ways to disappear for good.",
    "If I had the pills I'd have done it by now.",
    "Nobody will find me until it's too late.",
    "The balcony keeps calling to me.",
    "Left the key under the mat for whoever comes.",
    "Bought more paracetamol than anyone needs.",
    "Took double my meds hoping it would be enough.",
    "I'm ready to let myself die.",
    "I keep wanting to crash my car.",
    "J'ai écrit une lettre d'adieu à ma sœur.",
    "Ich habe einen Plan, wie ich es mache.",
    "Não vejo sentido em continuar viva.",
    "My only plan now is dying.",
]


ROUND_16C_EVERYDAY = [
    "Wrote down exactly how I'd do it: sand, prime, then two coats.",
    "Wrote out the plan for the garden.",
    "Every time I close my eyes I see myself on that beach.",
    "Let go of the railing on the ice rink for the first time!",
    "Checking out of the hotel at eleven.",
    "Stockpiling tins for the winter.",
    "Sat in the car in the garage because it was raining.",
    "My safety plan says to call my sister, so I did and it helped.",
    "The nurse asked if I had a plan for the birth. I do!",
    "I can't promise I'll be on time tomorrow.",
    "Made up my mind to dye my hair.",
    "I just wanna be done with exams.",
    "How many stitches does it take to heal a cut like that?",
    "Wish I had the guts to quit my job.",
    "Next time I'll take more snacks on the hike.",
    "Next time I won't put the sugar in first.",
    "Held the baby for an hour tonight, she's so tiny.",
    "Stared at the menu for way too long tonight.",
    "Ran a bath and thought about the week.",
    "Sat with the puppy for hours.",
    "Stopped my insulin pump for a sensor change, all fine.",
    "I cut the cake until it was gone.",
    "My keys keep disappearing for good it seems.",
    "If I had the money I would have done it already, the trip to Japan.",
    "The beach keeps calling to me.",
    "Left the key under the mat for the cat sitter.",
    "Took double my vitamins by mistake.",
    "I'm ready to let myself rest this weekend.",
    "I keep wanting to crash on the sofa.",
    "J'ai écrit une lettre à ma sœur.",
    "Ich habe einen Plan für das Wochenende.",
    "My only plan is sleeping in on Sunday.",
    "The insurance money came through for the car.",
]


@pytest.mark.parametrize("text", ROUND_16_CRISIS + ROUND_16B_CRISIS + ROUND_16C_CRISIS)
def test_round_16_crisis_families_are_found(text: str) -> None:
    assert find_by_rules(text) is not None


@pytest.mark.parametrize("text", ROUND_16_EVERYDAY + ROUND_16B_EVERYDAY + ROUND_16C_EVERYDAY)
def test_round_16_everyday_lines_with_the_same_words_pass_the_rules(text: str) -> None:
    assert find_by_rules(text) is None


@pytest.mark.parametrize(
    ("everyday", "crisis"),
    [
        (
            "Tonight I'm going to take all of the boxes to the recycling centre.",
            "Tonight I'm going to take all of them, the whole bottle.",
        ),
        (
            "If I don't wake up before ten tomorrow, good, I earned it.",
            "If I don't wake up tomorrow, good.",
        ),
        ("The escape room beat us, we found no way out.", "I see no way out of this."),
        (
            "Wearing long sleeves in July because my sunburn is that bad.",
            "Long sleeves again so nobody sees the cuts.",
        ),
        (
            "Looked up the height of the car park to see if the camper would fit.",
            "Looked up the height of the car park roof, high enough.",
        ),
        (
            "Found a spot by the river where nobody goes, perfect for reading.",
            "Found a spot by the river where nobody goes. That's where I'll do it.",
        ),
    ],
)
def test_errands_games_and_weather_with_plan_and_means_words_are_set_aside(
    everyday: str, crisis: str
) -> None:
    assert find_by_rules(everyday) is None
    assert find_by_rules(crisis) is not None
