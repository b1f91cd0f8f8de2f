// Internal to src/media: the built-in 5x7 bitmap font (designed for facepipe, drawn below as ASCII art).
#pragma once

namespace facepipe::media::detail {

constexpr int kGlyphWidth = 5;
constexpr int kGlyphHeight = 7;

// Seven rows of five characters, '#' = ink. Lower case maps to upper case; unknown characters get a
// hollow box so that a missing glyph is visible rather than silently dropped.
const char* const* glyph_rows(char c);

}  // namespace facepipe::media::detail
