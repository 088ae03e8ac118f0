//! Rocket's sentinels for a channel route's request guards: each guard type, and each type
//! nested in it (the `State<T>` in `&State<T>`, the guard in `Option<G>`), as Rocket's
//! `#[get]` finds them, so that launch checks them the same way.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Type;
use syn::spanned::Spanned;
// `VisitMut` on a copy, not `Visit`: syn's `visit-mut` is built for Rocket's tree anyway,
// `visit` would be one more module of syn compiled on every app's first build.
use syn::visit_mut::VisitMut;

/// One `Sentry` expression per type in `ty`, each naming its enclosing type as parent.
pub(crate) fn sentries(ty: &Type) -> Vec<TokenStream> {
    if !concrete(ty) {
        return Vec::new();
    }
    let mut found = Nested::default();
    found.visit_type_mut(&mut ty.clone());
    let private = quote!(::rocket_pusher::__private);
    found
        .types
        .into_iter()
        .map(|(ty, parent)| match parent {
            Some(parent) => quote_spanned!(ty.span()=> #private::sentry!(#ty, #parent)),
            None => quote_spanned!(ty.span()=> #private::sentry!(#ty)),
        })
        .collect()
}

/// Every type in a type, outermost first, with the type it is directly nested in.
#[derive(Default)]
struct Nested {
    parents: Vec<Type>,
    types: Vec<(Type, Option<Type>)>,
}

impl VisitMut for Nested {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        self.types.push((ty.clone(), self.parents.last().cloned()));
        self.parents.push(ty.clone());
        syn::visit_mut::visit_type_mut(self, ty);
        self.parents.pop();
    }
}

/// Whether a `TypeId` can name the type: no `impl Trait`, `_` or macro in it. (A channel
/// route has no generic parameters, and its elided lifetimes are inferred.)
fn concrete(ty: &Type) -> bool {
    struct Check(bool);
    impl VisitMut for Check {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            match ty {
                Type::ImplTrait(_) | Type::Infer(_) | Type::Macro(_) | Type::Verbatim(_) => {
                    self.0 = false;
                }
                _ => syn::visit_mut::visit_type_mut(self, ty),
            }
        }
    }
    let mut check = Check(true);
    check.visit_type_mut(&mut ty.clone());
    check.0
}
