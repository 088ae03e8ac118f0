//! The `#[channel("pattern")]` attribute and the `Broadcast` derive of `rocket_pusher`;
//! use them through that crate.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{FnArg, ItemFn, Lifetime, LitStr, Pat, Type, parse_macro_input};

mod answer;
mod broadcast;
mod pattern;
mod sentinel;

/// (The derive is defined in `rocket_pusher_codegen`; use it through `rocket_pusher`.)
#[proc_macro_derive(Broadcast, attributes(broadcast))]
pub fn derive_broadcast(item: TokenStream) -> TokenStream {
    let input = parse_macro_input!(item as syn::DeriveInput);
    broadcast::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// (The attribute is defined in `rocket_pusher_codegen`; use it through `rocket_pusher`.)
#[proc_macro_attribute]
pub fn channel(attr: TokenStream, item: TokenStream) -> TokenStream {
    let pattern = parse_macro_input!(attr as LitStr);
    let function = parse_macro_input!(item as ItemFn);
    expand(&pattern, &function)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn expand(pattern: &LitStr, function: &ItemFn) -> syn::Result<TokenStream2> {
    // Every path the generated code names is under this one module.
    let private = quote!(::rocket_pusher::__private);
    let sig = &function.sig;
    // A sync `fn` is called as it is, as Rocket calls a sync handler.
    let call_await = sig.asyncness.map(|_| quote!(.await));
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "a channel route takes no generic parameters; write `'_` for a guard's lifetime",
        ));
    }
    let name = &sig.ident;
    let vis = &function.vis;
    let source = pattern.value();
    let params = pattern::params(&source)
        .map_err(|e| syn::Error::new(pattern.span(), format!("invalid channel pattern: {e}")))?;
    let mut bindings = Vec::new();
    let mut args = Vec::new();
    let mut names = Vec::new();
    // Rocket's sentinels of the request guards' types, so a guard that cannot work (a
    // `&State<T>` of state never managed) fails launch as in a Rocket handler.
    let mut sentries = Vec::new();
    // The pattern's parameters as the function declares them, in pattern order.
    let mut typed: Vec<Option<(&syn::Ident, &Type)>> = vec![None; params.len()];
    for (i, input) in sig.inputs.iter().enumerate() {
        let FnArg::Typed(arg) = input else {
            return Err(syn::Error::new(
                input.span(),
                "a channel route takes no `self`",
            ));
        };
        let Pat::Ident(pat) = &*arg.pat else {
            return Err(syn::Error::new(
                arg.pat.span(),
                "use a plain name for each argument",
            ));
        };
        let text = pat.ident.to_string();
        let ty = &arg.ty;
        let var = syn::Ident::new(&format!("__arg{i}"), Span::mixed_site());
        // Spanned on the type, so a type that is neither a parameter nor a guard is
        // reported on it.
        let binding = if let Some(index) = params.iter().position(|p| *p == text) {
            typed[index] = Some((&pat.ident, &**ty));
            quote_spanned! {ty.span()=>
                let #var: #ty = #private::param(__caps, #index, #text)?;
            }
        } else {
            sentries.extend(sentinel::sentries(ty));
            quote_spanned! {ty.span()=>
                let #var: #ty = <#private::Arg<#ty>>::resolve(__req, __channel, #text).await?;
            }
        };
        bindings.push(binding);
        args.push(var);
        names.push(text);
    }
    if let Some(unknown) = params.iter().find(|p| !names.iter().any(|n| n == *p)) {
        return Err(syn::Error::new(
            pattern.span(),
            format!(
                "<{unknown}> is not an argument of `{name}`: name one argument after each parameter"
            ),
        ));
    }
    let typed: Vec<(&syn::Ident, &Type)> = typed.into_iter().flatten().collect();
    let constructor = name_constructor(name, pattern, vis, &typed);
    let call = quote!(#name(#(#args),*) #call_await);
    let decide = answer::decide(&source, sig, &call);
    Ok(quote! {
        #function

        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #name {}

        #constructor

        impl ::core::convert::From<#name> for #private::ChannelRoute {
            fn from(_: #name) -> Self {
                let route = #private::ChannelRoute::new(#pattern, |__req, __channel, __caps| {
                    ::std::boxed::Box::pin(async move {
                        use #private::Guard as _;
                        let _ = (&__req, &__channel, &__caps);
                        #(#bindings)*
                        #decide
                    })
                })
                .named(::core::stringify!(#name));
                #private::with_sentinels(route, ::std::vec![#(#sentries),*])
            }
        }
    })
}

/// `PATTERN` and `name(..)` on the route's struct: the names the route matches, built
/// from its parameters with the types the function declares, in pattern order.
fn name_constructor(
    route: &syn::Ident,
    pattern: &LitStr,
    vis: &syn::Visibility,
    params: &[(&syn::Ident, &Type)],
) -> TokenStream2 {
    let private = quote!(::rocket_pusher::__private);
    let source = pattern.value();
    let idents: Vec<_> = params.iter().map(|(ident, _)| *ident).collect();
    let types: Vec<_> = params.iter().map(|(_, ty)| *ty).collect();
    // The values are formatted with `Display`, the counterpart of the `FromStr` Rocket's
    // `FromParam` parses numbers with. The bound is higher-ranked so that it is checked
    // where `name` is called, not here: a route whose parameter has no `Display` (an
    // `Option<u64>`, an app's own `FromParam` type) still compiles, only without a
    // callable `name`. A bound cannot elide lifetimes, so they are named: `&str` is
    // `&'__p str` there.
    let bounds = types.iter().map(|ty| {
        let mut ty = (*ty).clone();
        NameLifetimes.visit_type_mut(&mut ty);
        quote_spanned!(ty.span()=> for<'__p> #ty: ::core::fmt::Display)
    });
    let doc_pattern = format!(" The pattern of the channel route `{route}`: `{source}`.");
    let doc_name = format!(
        " The channel name `{source}` with these values in place: a name the channel route \
         `{route}` matches, and parses back to the same values."
    );
    let doc_rules = " Each value is formatted with `Display` and must be one segment of a \
         channel name: not empty, only `A-Z a-z 0-9 - _ = @ , ;` (no `.`). The error names \
         the parameter that is not, or says the whole name is over 200 characters.";
    quote! {
        impl #route {
            #[doc = #doc_pattern]
            #[allow(dead_code)]
            #vis const PATTERN: &'static str = #pattern;

            #[doc = #doc_name]
            #[doc = ""]
            #[doc = #doc_rules]
            #[allow(dead_code, clippy::too_many_arguments)]
            #vis fn name(#(#idents: #types),*) -> ::core::result::Result<
                #private::ChannelName,
                #private::ValidationError,
            >
            where
                #(#bounds),*
            {
                #private::channel_name(
                    #pattern,
                    &[#(&#idents as &dyn ::core::fmt::Display),*],
                )
            }
        }
    }
}

/// Names every elided lifetime of a type `'__p`, for a bound `for<'__p> T: Display`.
struct NameLifetimes;

impl VisitMut for NameLifetimes {
    fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
        if r.lifetime.is_none() {
            r.lifetime = Some(Lifetime::new("'__p", r.and_token.spans[0]));
        }
        syn::visit_mut::visit_type_reference_mut(self, r);
    }

    fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
        if lifetime.ident == "_" {
            *lifetime = Lifetime::new("'__p", lifetime.span());
        }
    }
}
