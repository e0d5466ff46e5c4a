//! Small text helpers for messages: user input quoted in an error is clipped and never
//! contains a token.

/// Clip user input for an error message; anything that looks like a token is hidden.
pub fn clip(s: &str) -> String {
    if s.contains("tsr_") {
        return "(hidden)".to_owned();
    }
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// A date and time for a message, like `2027-01-31 17:00 UTC`.
pub fn date(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}
