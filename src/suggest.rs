//! "Did you mean ...?": the nearest candidate by edit distance, a case-insensitive match first.

/// The candidate closest to `word`, if any is close enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        if c == word {
            continue;
        }
        if c.to_lowercase() == lower {
            return Some(c);
        }
        let d = strsim::damerau_levenshtein(&lower, &c.to_lowercase());
        let limit = (word.chars().count().max(c.chars().count()) / 3).max(1);
        if d <= limit && best.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn case_insensitive_match_wins() {
        let c = ["CALLER_ID", "CALLER_ID_E164", "caller_id_e164"];
        assert_eq!(nearest("Caller_Id_E164", c), Some("CALLER_ID_E164"));
    }

    #[test]
    fn typo_is_found_and_far_words_are_not() {
        let c = ["CALLER_ID_E164", "AGENT_NAME"];
        assert_eq!(nearest("CALLER_ID_E146", c), Some("CALLER_ID_E164"));
        assert_eq!(nearest("AGNET_NAME", c), Some("AGENT_NAME"));
        assert_eq!(nearest("TICKET", c), None);
    }
}
