//! The check that a channel route's return type answers its channel's kind: the pattern's
//! prefix tells the kind, a presence route must name the member, a private one must not.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ReturnType, Signature};

/// The route's answer turned into a decision by the function of its channel's kind, whose
/// bound refuses a return type of the other kind. Spanned on the return type, so that is
/// where the compiler points.
pub(crate) fn decide(pattern: &str, sig: &Signature, call: &TokenStream) -> TokenStream {
    let private = quote!(::rocket_pusher::__private);
    let span = match &sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => sig.ident.span(),
    };
    let check = if pattern.starts_with("presence-") {
        quote_spanned!(span=> presence_answer)
    } else {
        quote_spanned!(span=> private_answer)
    };
    // The call's tokens take the return type's span: an unmet bound is reported on the
    // argument, and this way on the type that does not fit.
    let call = respan(call, span);
    quote_spanned!(span=> #private::#check(#call))
}

fn respan(tokens: &TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut tt| {
            if let proc_macro2::TokenTree::Group(g) = &tt {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(&g.stream(), span));
                group.set_span(g.span().located_at(span));
                tt = proc_macro2::TokenTree::Group(group);
            } else {
                // Where the compiler points, keeping each token's hygiene.
                tt.set_span(tt.span().located_at(span));
            }
            tt
        })
        .collect()
}
