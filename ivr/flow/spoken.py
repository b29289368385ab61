"""Digits spoken in Mandarin or English, as speech recognition returns them."""
import re

DIGIT_WORDS = {
    "零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "么": "1", "妖": "1", "二": "2", "两": "2", "兩": "2",
    "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "拐": "7", "八": "8", "九": "9", "勾": "9",
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "to": "2", "too": "2", "three": "3",
    "four": "4", "for": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "０": "0", "１": "1", "２": "2", "３": "3", "４": "4", "５": "5", "６": "6", "７": "7", "８": "8", "９": "9",
}
REPEATERS = {"double": 2, "triple": 3}
FILLER = re.compile(r"[\s,，。．.、\-–—!！?？:：;；]+")
ENGLISH_WORD = re.compile(r"[a-z]+")


def digits_from_speech(text):
    """Return the digits in a spoken phrase such as '一二三 四五六' or 'one two double three', or None."""
    if not text:
        return None
    text = text.lower()[:200]
    digits = []
    repeat = 1
    position = 0
    while position < len(text):
        character = text[position]
        if character.isascii() and character.isalpha():
            match = ENGLISH_WORD.match(text, position)
            word = match.group(0)
            position = match.end()
            if word in REPEATERS:
                repeat = REPEATERS[word]
                continue
            if word not in DIGIT_WORDS:
                return None
            digits.append(DIGIT_WORDS[word] * repeat)
            repeat = 1
            continue
        position += 1
        if character.isdigit() and character.isascii():
            digits.append(character * repeat)
            repeat = 1
        elif character in DIGIT_WORDS:
            digits.append(DIGIT_WORDS[character] * repeat)
            repeat = 1
        elif FILLER.fullmatch(character):
            continue
        else:
            return None
    joined = "".join(digits)
    return joined or None
