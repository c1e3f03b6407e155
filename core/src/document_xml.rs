//! The XML of a rules document (docs/spec.md §7), S3's or OSS's, read into
//! the configuration's model of one CORS configuration (`RawRule`s, owned).
//!
//! quick-xml's pull reader is driven through the three levels such a
//! document has (`<CORSConfiguration>`, `<CORSRule>`, a field), so no tree
//! is built and nothing recurses, however deep a hostile document nests.
//! Only XML's five entities and character references are expanded: a DOCTYPE
//! is skipped and a reference to any entity it declares is refused, so no
//! external entity is read and no expansion can grow. Element names are
//! read without their namespace prefix (S3 writes `xmlns`); attributes are
//! ignored. What the document says is judged by `compile`, as the plugin
//! configuration is; this reader only refuses what is not of that shape.

use crate::compile::At;
use crate::config::{RawRule, Text};
use crate::document::RulesDocument;
use crate::error::{ConfigError, ErrorKind};
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;

/// The root element.
const ROOT: &str = "CORSConfiguration";
/// One rule, a child of the root.
const RULE: &str = "CORSRule";

/// The children of `parent`, for the message of an element it does not have.
pub(crate) fn children_of(parent: &str) -> &'static str {
    if parent == ROOT {
        "CORSRule, ResponseVary"
    } else {
        "ID, AllowedOrigin, AllowedMethod, AllowedHeader, ExposeHeader, MaxAgeSeconds"
    }
}

/// An element that holds text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// OSS's, a child of the root.
    ResponseVary,
    /// S3's; the rest are children of a rule in both.
    Id,
    AllowedOrigin,
    AllowedMethod,
    AllowedHeader,
    ExposeHeader,
    MaxAgeSeconds,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::ResponseVary => "ResponseVary",
            Field::Id => "ID",
            Field::AllowedOrigin => "AllowedOrigin",
            Field::AllowedMethod => "AllowedMethod",
            Field::AllowedHeader => "AllowedHeader",
            Field::ExposeHeader => "ExposeHeader",
            Field::MaxAgeSeconds => "MaxAgeSeconds",
        }
    }

    fn of_rule(name: &str) -> Option<Field> {
        Some(match name {
            "ID" => Field::Id,
            "AllowedOrigin" => Field::AllowedOrigin,
            "AllowedMethod" => Field::AllowedMethod,
            "AllowedHeader" => Field::AllowedHeader,
            "ExposeHeader" => Field::ExposeHeader,
            "MaxAgeSeconds" => Field::MaxAgeSeconds,
            _ => return None,
        })
    }
}

/// One rule being read, and its problems: named once the rule is read,
/// since its `ID` may come last.
#[derive(Default)]
struct RuleReading {
    rule: RawRule<'static>,
    /// The field (none: the rule itself) and what is wrong.
    problems: Vec<(Option<String>, ErrorKind)>,
    text_reported: bool,
    /// `MaxAgeSeconds` was given, even if it was no number.
    max_age_given: bool,
}

/// Where the reader is.
enum Place {
    /// Before the root element.
    Prolog,
    /// Inside `<CORSConfiguration>`, between rules.
    Root,
    Rule(RuleReading),
    /// After the root element.
    Epilog,
}

struct Reading {
    place: Place,
    /// The field being read and its text so far.
    field: Option<(Field, String)>,
    /// Nesting depth inside an element being skipped (already reported).
    skip: usize,
    rules: Vec<RawRule<'static>>,
    response_vary: Option<bool>,
    root_text_reported: bool,
    errors: Vec<ConfigError>,
}

/// A problem that stops the reading: the document is not XML, or not one
/// of a CORS configuration. An `Xml` one is told where it is.
type Fatal = (String, ErrorKind);

fn not_xml(message: impl Into<String>) -> Fatal {
    (String::new(), ErrorKind::Xml(message.into()))
}

/// Reads `text` (the whole document, UTF-8). `Ok` holds what was read and
/// every problem of its shape; `Err` the one problem that stopped the read.
pub(crate) fn read(text: &str) -> Result<(RulesDocument, Vec<ConfigError>), ConfigError> {
    let mut reader = Reader::from_str(text.strip_prefix('\u{feff}').unwrap_or(text));
    let mut r = Reading {
        place: Place::Prolog,
        field: None,
        skip: 0,
        rules: Vec::new(),
        response_vary: None,
        root_text_reported: false,
        errors: Vec::new(),
    };
    let fatal = |reader: &Reader<&[u8]>, e: &dyn std::fmt::Display| ConfigError {
        at: String::new(),
        kind: ErrorKind::Xml(format!("{e} (at byte {})", reader.error_position())),
    };
    loop {
        let event = reader.read_event().map_err(|e| fatal(&reader, &e))?;
        let step = match event {
            Event::Start(e) => r.open(&e, true),
            Event::Empty(e) => r.open(&e, false),
            Event::End(_) => {
                r.close();
                Ok(())
            }
            Event::Text(t) => {
                let text = t.xml10_content().map_err(|e| fatal(&reader, &e))?;
                r.text(&text)
            }
            Event::CData(c) => {
                let text = c.xml10_content().map_err(|e| fatal(&reader, &e))?;
                r.text(&text)
            }
            Event::GeneralRef(g) => match reference(&g) {
                Ok(text) => r.text(&text),
                Err(e) => Err(not_xml(e)),
            },
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => Ok(()),
            Event::Eof => break,
        };
        if let Err((at, kind)) = step {
            let kind = match kind {
                // Where the element, text or reference that stopped the read ends.
                ErrorKind::Xml(e) => {
                    ErrorKind::Xml(format!("{e} (at byte {})", reader.buffer_position()))
                }
                kind => kind,
            };
            return Err(ConfigError { at, kind });
        }
    }
    // An element being skipped is inside the root, so the root is named.
    let open = match (&r.field, &r.place) {
        (Some((field, _)), _) => Some(field.name()),
        (None, Place::Rule(_)) => Some(RULE),
        (None, Place::Root) => Some(ROOT),
        (None, Place::Prolog) => {
            return Err(ConfigError {
                at: String::new(),
                kind: ErrorKind::Xml("no root element".into()),
            })
        }
        (None, Place::Epilog) => None,
    };
    if let Some(name) = open {
        return Err(ConfigError {
            at: String::new(),
            kind: ErrorKind::Xml(format!("the document ends inside <{name}>")),
        });
    }
    let document = RulesDocument::new(r.rules, r.response_vary.unwrap_or(true));
    Ok((document, r.errors))
}

/// A character reference, or one of XML's five predefined entities.
fn reference(r: &BytesRef<'_>) -> Result<String, String> {
    if let Some(c) = r.resolve_char_ref().map_err(|e| e.to_string())? {
        return Ok(c.into());
    }
    let name = r.decode().map_err(|e| e.to_string())?;
    resolve_predefined_entity(&name)
        .map(str::to_owned)
        .ok_or_else(|| format!("&{name}; is not one of XML's five entities, and no other is read"))
}

/// XML's whitespace: what a pretty-printed document puts around a value.
fn trim(text: &str) -> &str {
    text.trim_matches([' ', '\t', '\r', '\n'])
}

impl Reading {
    fn open(&mut self, e: &BytesStart<'_>, has_end: bool) -> Result<(), Fatal> {
        let local = e.local_name();
        let name = String::from_utf8_lossy(local.as_ref());
        if self.skip > 0 {
            self.skip += usize::from(has_end);
            return Ok(());
        }
        if let Some((field, _)) = self.field {
            self.problem(field, ErrorKind::ElementInText(name.into_owned()));
            self.skip = usize::from(has_end);
            return Ok(());
        }
        match &mut self.place {
            Place::Prolog if name == ROOT => {
                self.place = if has_end { Place::Root } else { Place::Epilog };
            }
            Place::Prolog => return Err((format!("<{name}>"), ErrorKind::NotCorsConfiguration)),
            Place::Epilog => return Err(not_xml(format!("a second root element <{name}>"))),
            Place::Root if name == RULE => {
                let rule = RuleReading::default();
                if has_end {
                    self.place = Place::Rule(rule);
                } else {
                    self.end_rule(rule);
                }
            }
            Place::Root if name == Field::ResponseVary.name() => {
                self.start_field(Field::ResponseVary, has_end)
            }
            Place::Root => {
                self.errors.push(ConfigError {
                    at: format!("<{name}>"),
                    kind: ErrorKind::UnknownElement(ROOT),
                });
                self.skip = usize::from(has_end);
            }
            Place::Rule(rule) => match Field::of_rule(&name) {
                Some(field) => self.start_field(field, has_end),
                None => {
                    rule.problems
                        .push((Some(format!("<{name}>")), ErrorKind::UnknownElement(RULE)));
                    self.skip = usize::from(has_end);
                }
            },
        }
        Ok(())
    }

    fn start_field(&mut self, field: Field, has_end: bool) {
        if has_end {
            self.field = Some((field, String::new()));
        } else {
            self.end_field(field, "");
        }
    }

    /// An end tag; the reader has checked that it closes the open element.
    fn close(&mut self) {
        if self.skip > 0 {
            self.skip -= 1;
        } else if let Some((field, text)) = self.field.take() {
            self.end_field(field, &text);
        } else {
            match std::mem::replace(&mut self.place, Place::Epilog) {
                Place::Rule(rule) => {
                    self.place = Place::Root;
                    self.end_rule(rule);
                }
                // The root's end, or (the reader refuses it) a stray one.
                Place::Root | Place::Prolog | Place::Epilog => {}
            }
        }
    }

    fn text(&mut self, text: &str) -> Result<(), Fatal> {
        if self.skip > 0 {
            return Ok(());
        }
        if let Some((_, value)) = &mut self.field {
            value.push_str(text);
            return Ok(());
        }
        if trim(text).is_empty() {
            return Ok(());
        }
        match &mut self.place {
            Place::Prolog | Place::Epilog => Err(not_xml("text outside the root element")),
            Place::Root if !self.root_text_reported => {
                self.root_text_reported = true;
                self.errors.push(ConfigError {
                    at: format!("<{ROOT}>"),
                    kind: ErrorKind::TextBesideElements,
                });
                Ok(())
            }
            Place::Rule(rule) if !rule.text_reported => {
                rule.text_reported = true;
                rule.problems.push((None, ErrorKind::TextBesideElements));
                Ok(())
            }
            Place::Root | Place::Rule(_) => Ok(()),
        }
    }

    /// A problem with `field` of the rule being read, or with `ResponseVary`.
    fn problem(&mut self, field: Field, kind: ErrorKind) {
        match &mut self.place {
            Place::Rule(rule) => rule.problems.push((Some(field.name().into()), kind)),
            _ => self.errors.push(ConfigError {
                at: field.name().into(),
                kind,
            }),
        }
    }

    fn end_field(&mut self, field: Field, text: &str) {
        let value = trim(text);
        if field == Field::ResponseVary {
            if self.response_vary.is_some() {
                self.problem(field, ErrorKind::GivenTwice);
            } else if value.eq_ignore_ascii_case("true") {
                self.response_vary = Some(true);
            } else if value.eq_ignore_ascii_case("false") {
                self.response_vary = Some(false);
            } else {
                self.errors.push(ConfigError {
                    at: format!("ResponseVary {value:?}"),
                    kind: ErrorKind::NotBool,
                });
            }
            return;
        }
        let Place::Rule(reading) = &mut self.place else {
            return;
        };
        let rule = &mut reading.rule;
        let text = || Text::from(value.to_owned());
        match field {
            Field::Id if rule.id.is_some() => reading
                .problems
                .push((Some("ID".into()), ErrorKind::GivenTwice)),
            Field::Id => rule.id = Some(text()),
            Field::AllowedOrigin => rule.allowed_origin.push(text()),
            Field::AllowedMethod => rule.allowed_method.push(text()),
            Field::AllowedHeader => rule.allowed_header.push(text()),
            Field::ExposeHeader => rule.expose_header.push(text()),
            Field::MaxAgeSeconds if reading.max_age_given => reading
                .problems
                .push((Some("MaxAgeSeconds".into()), ErrorKind::GivenTwice)),
            Field::MaxAgeSeconds => {
                reading.max_age_given = true;
                match max_age(value) {
                    Ok(n) => rule.max_age_seconds = Some(n),
                    Err(kind) => reading
                        .problems
                        .push((Some(format!("MaxAgeSeconds {value:?}")), kind)),
                }
            }
            Field::ResponseVary => {}
        }
    }

    /// Names the rule's problems (`rule 2 (ID "web") <AllowedOrign>`) and keeps it.
    fn end_rule(&mut self, reading: RuleReading) {
        let index = self.rules.len();
        let at = At::Rule(&At::Document, index, reading.rule.id.as_deref());
        for (field, kind) in reading.problems {
            let at = match field {
                Some(field) => format!("{at} {field}"),
                None => at.to_string(),
            };
            self.errors.push(ConfigError { at, kind });
        }
        self.rules.push(reading.rule);
    }
}

/// `MaxAgeSeconds` as the number `compile` judges (its range is checked
/// there, as in the plugin configuration): an integer, else why not.
fn max_age(text: &str) -> Result<serde_json::Number, ErrorKind> {
    if let Ok(n) = text.parse::<i64>() {
        return Ok(n.into());
    }
    if let Ok(n) = text.parse::<u64>() {
        return Ok(n.into());
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // An integer beyond any seconds `compile` would accept.
        Err(ErrorKind::MaxAge)
    } else {
        Err(ErrorKind::MaxAgeNotWhole)
    }
}
