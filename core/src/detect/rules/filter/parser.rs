//! The parser of the CEL subset: tokens to a tree of [`Node`]s (recursive descent, CEL's
//! precedence: `?:`, `??`, `||`, `&&`, relations, arithmetic, unary, member access).
//!
//! Every construct of the subset is parsed, so a disjunct we do not translate is still delimited
//! exactly; constructs without a meaning for the translation become [`Ex::Other`]. Nesting is
//! bounded (`MAX_DEPTH`) both in the recursion and in the tree's height, so hostile input
//! cannot overflow the stack.

use std::ops::Range;

use super::lexer::{SyntaxError, Tok, Token, err, tokenize};

#[derive(Clone, Debug)]
pub(super) enum Ex {
    Or(Vec<Node>),
    And(Vec<Node>),
    Not(Box<Node>),
    Cmp(Box<Node>, &'static str, Box<Node>),
    /// `name(args)` or `recv.name(args)`.
    Call {
        recv: Option<Box<Node>>,
        name: String,
        args: Vec<Node>,
    },
    Ident(String),
    /// `x.field`.
    Select(Box<Node>, String),
    /// `x[key]`.
    Index(Box<Node>, Box<Node>),
    Str(String),
    Num(f64),
    List(Vec<Node>),
    /// `x ?? default`.
    Coalesce(Box<Node>, Box<Node>),
    /// Parsed, without a meaning here (arithmetic, `?:`, maps, slices, literals, `in`).
    Other(&'static str),
}

#[derive(Clone, Debug)]
pub(super) struct Node {
    pub(super) ex: Ex,
    pub(super) span: Range<usize>,
    /// 1 for a leaf.
    height: usize,
}

pub(super) struct Program {
    /// Names bound with `let name = ...;` before the expression.
    pub(super) bindings: Vec<String>,
    pub(super) body: Node,
}

/// Deeper nesting (of the parser's recursion and of the tree) is refused: a bound on recursion
/// for hostile input.
const MAX_DEPTH: usize = 200;

pub(super) struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    len: usize,
}

impl Parser {
    pub(super) fn new(src: &str) -> Result<Parser, SyntaxError> {
        Ok(Parser {
            toks: tokenize(src)?,
            pos: 0,
            depth: 0,
            len: src.len(),
        })
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }
    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.pos + n).map(|t| &t.tok)
    }
    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.len, |t| t.span.start)
    }
    fn end_of_prev(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|p| self.toks.get(p))
            .map_or(0, |t| t.span.end)
    }
    fn is(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Tok::Punct(q)) if *q == p)
    }
    fn eat(&mut self, p: &str) -> bool {
        let hit = self.is(p);
        if hit {
            self.pos += 1;
        }
        hit
    }
    fn expect(&mut self, p: &str) -> Result<(), SyntaxError> {
        if self.eat(p) {
            Ok(())
        } else {
            err(self.at(), format!("expected `{p}`"))
        }
    }
    /// A node over the tokens from `start` to the last one read. Its height is bounded, so that
    /// walking or dropping a tree never recurses deeply (`a.b.c...` nests without recursion).
    fn node(&self, ex: Ex, start: usize) -> Result<Node, SyntaxError> {
        let below = match &ex {
            Ex::Or(v) | Ex::And(v) | Ex::List(v) => v.iter().map(|n| n.height).max().unwrap_or(0),
            Ex::Not(a) | Ex::Select(a, _) => a.height,
            Ex::Cmp(a, _, b) | Ex::Index(a, b) | Ex::Coalesce(a, b) => a.height.max(b.height),
            Ex::Call { recv, args, .. } => args
                .iter()
                .chain(recv.as_deref())
                .map(|n| n.height)
                .max()
                .unwrap_or(0),
            Ex::Ident(_) | Ex::Str(_) | Ex::Num(_) | Ex::Other(_) => 0,
        };
        if below >= MAX_DEPTH {
            return err(start, "nested too deeply");
        }
        Ok(Node {
            ex,
            span: start..self.end_of_prev(),
            height: below + 1,
        })
    }

    pub(super) fn program(&mut self) -> Result<Program, SyntaxError> {
        let mut bindings = Vec::new();
        while matches!(self.peek(), Some(Tok::Ident(k)) if k == "let")
            && matches!(self.peek_at(1), Some(Tok::Ident(_)))
            && matches!(self.peek_at(2), Some(Tok::Punct("=")))
        {
            let name = match self.peek_at(1) {
                Some(Tok::Ident(n)) => n.clone(),
                _ => String::new(),
            };
            self.pos += 3;
            self.expr()?;
            self.expect(";")?;
            bindings.push(name);
        }
        let body = self.expr()?;
        if self.pos < self.toks.len() {
            return err(self.at(), "unexpected text after the expression");
        }
        Ok(Program { bindings, body })
    }

    fn expr(&mut self) -> Result<Node, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(self.at(), "nested too deeply");
        }
        let start = self.at();
        let cond = self.coalesce()?;
        let out = if self.eat("?") {
            self.coalesce()?;
            self.expect(":")?;
            self.expr()?;
            self.node(Ex::Other("a conditional `?:`"), start)?
        } else {
            cond
        };
        self.depth -= 1;
        Ok(out)
    }

    fn coalesce(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        let mut lhs = self.or()?;
        while self.eat("??") {
            let rhs = self.or()?;
            lhs = self.node(Ex::Coalesce(Box::new(lhs), Box::new(rhs)), start)?;
        }
        Ok(lhs)
    }

    fn or(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        let mut items = vec![self.and()?];
        while self.eat("||") {
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            self.node(Ex::Or(items), start)?
        })
    }

    fn and(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        let mut items = vec![self.relation()?];
        while self.eat("&&") {
            items.push(self.relation()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            self.node(Ex::And(items), start)?
        })
    }

    fn relation(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        let mut lhs = self.additive()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Punct(p @ ("<" | "<=" | ">" | ">=" | "==" | "!="))) => *p,
                Some(Tok::Ident(k)) if k == "in" => "in",
                _ => return Ok(lhs),
            };
            self.pos += 1;
            let rhs = self.additive()?;
            lhs = self.node(Ex::Cmp(Box::new(lhs), op, Box::new(rhs)), start)?;
        }
    }

    fn additive(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        let mut lhs = self.multiplicative()?;
        while self.eat("+") || self.eat("-") {
            self.multiplicative()?;
            lhs = self.node(Ex::Other("arithmetic"), start)?;
        }
        Ok(lhs)
    }

    fn multiplicative(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        let mut lhs = self.unary()?;
        while self.eat("*") || self.eat("/") || self.eat("%") {
            self.unary()?;
            lhs = self.node(Ex::Other("arithmetic"), start)?;
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(start, "nested too deeply");
        }
        let out = if self.eat("!") {
            let inner = self.unary()?;
            self.node(Ex::Not(Box::new(inner)), start)?
        } else if self.eat("-") {
            let inner = self.unary()?;
            let ex = match inner.ex {
                Ex::Num(n) => Ex::Num(-n),
                _ => Ex::Other("arithmetic"),
            };
            self.node(ex, start)?
        } else {
            self.member()?
        };
        self.depth -= 1;
        Ok(out)
    }

    fn member(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        let mut lhs = self.primary()?;
        loop {
            if self.eat(".") {
                let Some(Tok::Ident(name)) = self.peek().cloned() else {
                    return err(self.at(), "expected a name after `.`");
                };
                self.pos += 1;
                if self.eat("(") {
                    let args = self.args(")")?;
                    lhs = self.node(
                        Ex::Call {
                            recv: Some(Box::new(lhs)),
                            name,
                            args,
                        },
                        start,
                    )?;
                } else {
                    lhs = self.node(Ex::Select(Box::new(lhs), name), start)?;
                }
            } else if self.eat("[") {
                let key = if self.is(":") {
                    None
                } else {
                    Some(self.expr()?)
                };
                if self.eat(":") {
                    if !self.is("]") {
                        self.expr()?;
                    }
                    self.expect("]")?;
                    lhs = self.node(Ex::Other("a slice"), start)?;
                } else {
                    self.expect("]")?;
                    let Some(key) = key else {
                        return err(self.at(), "expected an index");
                    };
                    lhs = self.node(Ex::Index(Box::new(lhs), Box::new(key)), start)?;
                }
            } else {
                return Ok(lhs);
            }
        }
    }

    /// Comma-separated expressions up to `close` (a trailing comma is allowed).
    fn args(&mut self, close: &str) -> Result<Vec<Node>, SyntaxError> {
        let mut out = Vec::new();
        while !self.eat(close) {
            out.push(self.expr()?);
            if !self.eat(",") {
                self.expect(close)?;
                break;
            }
        }
        Ok(out)
    }

    fn primary(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        let Some(tok) = self.peek().cloned() else {
            return err(start, "unexpected end of the expression");
        };
        self.pos += 1;
        let ex = match tok {
            Tok::Num(n) => Ex::Num(n),
            Tok::Str(s) => Ex::Str(s),
            Tok::Ident(k) if matches!(k.as_str(), "true" | "false" | "null") => {
                Ex::Other("a literal")
            }
            Tok::Ident(name) => {
                if self.eat("(") {
                    let args = self.args(")")?;
                    Ex::Call {
                        recv: None,
                        name,
                        args,
                    }
                } else {
                    Ex::Ident(name)
                }
            }
            Tok::Punct("(") => {
                // Parentheses only group: the inner node keeps its own span.
                let inner = self.expr()?;
                self.expect(")")?;
                return Ok(inner);
            }
            Tok::Punct("[") => Ex::List(self.args("]")?),
            Tok::Punct("{") => {
                while !self.eat("}") {
                    self.expr()?;
                    self.expect(":")?;
                    self.expr()?;
                    if !self.eat(",") {
                        self.expect("}")?;
                        break;
                    }
                }
                Ex::Other("a map")
            }
            Tok::Punct(p) => return err(start, format!("unexpected `{p}`")),
        };
        self.node(ex, start)
    }
}

/// The top-level disjuncts of `node` (nested `||` flattened, parentheses being transparent).
pub(super) fn disjuncts<'a>(node: &'a Node, out: &mut Vec<&'a Node>) {
    match &node.ex {
        Ex::Or(items) => items.iter().for_each(|n| disjuncts(n, out)),
        _ => out.push(node),
    }
}

/// The conjuncts of `node` (nested `&&` flattened).
pub(super) fn conjuncts<'a>(node: &'a Node, out: &mut Vec<&'a Node>) {
    match &node.ex {
        Ex::And(items) => items.iter().for_each(|n| conjuncts(n, out)),
        _ => out.push(node),
    }
}
