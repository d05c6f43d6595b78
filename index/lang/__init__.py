"""Language and script knowledge as data, in one place: character classes (scripts), Chinese and English
word lists (zh, en), person-name shapes (names) and the compiled patterns built from them (patterns).
Index and service modules import from here; nothing here imports the rest of govqa."""
