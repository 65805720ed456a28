//! [`RouteTable`]: which `/v1` paths exist and which methods each takes, computed from the routes
//! actually mounted (so a route added later gets its 405 and `Allow` without a list to keep).
//!
//! A route path is a list of segments: literal text, or `<param>` matching any one segment.
//! Catch-all routes (`<path..>`) are not part of the table: they are the fallbacks themselves.
//! Rocket answers `HEAD` with the `GET` route, so a path that takes `GET` takes `HEAD` too.

use std::sync::OnceLock;

use rocket::http::Method;
use rocket::{Request, Route};

/// One segment of a route path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    /// Literal text.
    Literal(String),
    /// `<param>`: any one segment.
    Param,
}

/// The mounted `/v1` routes, by path.
#[derive(Clone, Debug, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Method)>,
}

impl RouteTable {
    /// The table of every route under `/v1` among `routes`, catch-alls left out.
    pub fn new<'a>(routes: impl IntoIterator<Item = &'a Route>) -> Self {
        let mut table = Vec::new();
        for route in routes {
            let path = route.uri.path();
            if path.contains("..>") {
                continue;
            }
            let segments: Vec<Segment> = path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    if s.starts_with('<') && s.ends_with('>') {
                        Segment::Param
                    } else {
                        Segment::Literal(s.to_owned())
                    }
                })
                .collect();
            if segments.first() == Some(&Segment::Literal("v1".into())) {
                table.push((segments, route.method));
            }
        }
        Self { routes: table }
    }

    /// The methods the path (its decoded segments) takes, in a stable order; empty for a path no
    /// route serves.
    pub fn methods<'s>(&self, segments: impl IntoIterator<Item = &'s str>) -> Vec<Method> {
        let segments: Vec<&str> = segments.into_iter().collect();
        let mut methods: Vec<Method> = self
            .routes
            .iter()
            .filter(|(pattern, _)| matches(pattern, &segments))
            .map(|(_, m)| *m)
            .collect();
        if methods.contains(&Method::Get) {
            methods.push(Method::Head);
        }
        methods.sort_by_key(|m| m.as_str());
        methods.dedup();
        methods
    }

    /// The methods the request's path takes.
    pub fn methods_for(&self, req: &Request<'_>) -> Vec<Method> {
        self.methods(req.uri().path().segments())
    }
}

fn matches(pattern: &[Segment], segments: &[&str]) -> bool {
    pattern.len() == segments.len()
        && pattern.iter().zip(segments).all(|(p, s)| match p {
            Segment::Literal(l) => l == s,
            Segment::Param => true,
        })
}

/// The `Allow` header value of these methods: `GET, HEAD, POST`.
pub fn allow_header(methods: &[Method]) -> String {
    methods
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The managed slot of the table, filled from the mounted routes on first use (routes can no
/// longer change once the server is running).
#[derive(Debug, Default)]
pub struct TableSlot(OnceLock<RouteTable>);

/// The server's route table.
pub fn table<'r>(req: &'r Request<'_>) -> Option<&'r RouteTable> {
    let slot = req.rocket().state::<TableSlot>()?;
    Some(
        slot.0
            .get_or_init(|| RouteTable::new(req.rocket().routes())),
    )
}

/// Whether a mounted `/v1` route takes this request's path and method (a wrong method would be a
/// 405, an unknown path a 404: the gates leave those alone).
pub fn served(req: &Request<'_>) -> bool {
    table(req).is_some_and(|t| t.methods_for(req).contains(&req.method()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::route::dummy_handler;

    #[test]
    fn paths_params_and_head() {
        let routes = vec![
            Route::new(Method::Get, "/v1/partner/credentials", dummy_handler),
            Route::new(Method::Post, "/v1/partner/credentials", dummy_handler),
            Route::new(
                Method::Post,
                "/v1/partner/credentials/<id>/rotate",
                dummy_handler,
            ),
            Route::new(Method::Get, "/v1/partner/audit?<limit>", dummy_handler),
            Route::new(Method::Get, "/v1/<path..>", dummy_handler),
            Route::new(Method::Get, "/partner", dummy_handler),
        ];
        let t = RouteTable::new(&routes);
        assert_eq!(
            allow_header(&t.methods(["v1", "partner", "credentials"])),
            "GET, HEAD, POST"
        );
        assert_eq!(
            t.methods(["v1", "partner", "credentials", "abc", "rotate"]),
            [Method::Post]
        );
        assert_eq!(
            t.methods(["v1", "partner", "audit"]),
            [Method::Get, Method::Head]
        );
        assert!(
            t.methods(["v1", "partner", "credentials", "abc"])
                .is_empty()
        );
        assert!(t.methods(["v1", "nope"]).is_empty());
        assert!(t.methods(["partner"]).is_empty(), "only /v1 routes");
    }
}
