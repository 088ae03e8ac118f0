//! `#[derive(Broadcast)]`: an app's event type declares its event name and its channels.

use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{ToTokens, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{DeriveInput, Expr, Ident, LitStr, parse_quote};

/// The longest event name, `rocket_pusher::protocol::MAX_EVENT_NAME_LEN`: the rule
/// `EventName::new` checks at run time, checked here where the name is a literal.
const MAX_EVENT_NAME_LEN: usize = 200;

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let private = quote!(::rocket_pusher::__private);
    let mut event: Option<LitStr> = None;
    let mut channels: Vec<Expr> = Vec::new();
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("broadcast"))
    {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("event") {
                let name: LitStr = meta.value()?.parse()?;
                if event.is_some() {
                    return Err(meta.error("`event` is given twice"));
                }
                check_event_name(&name)?;
                event = Some(name);
            } else if meta.path.is_ident("channel") {
                channels.push(meta.value()?.parse()?);
            } else {
                let key = meta.path.to_token_stream().to_string().replace(' ', "");
                return Err(meta.error(format!(
                    "unknown key `{key}`: #[broadcast] takes `event = \"name\"` and \
                     `channel = <expression>` (repeated for each channel)"
                )));
            }
            Ok(())
        })?;
    }
    let ident = &input.ident;
    if channels.is_empty() {
        return Err(syn::Error::new(
            ident.span(),
            "a broadcast event needs at least one channel: \
             #[broadcast(channel = \"name\")] or #[broadcast(channel = <expression of self>)]",
        ));
    }
    let event = match event {
        Some(name) => name,
        None => {
            let name = LitStr::new(&ident.unraw().to_string(), ident.span());
            check_event_name(&name)?;
            name
        }
    };

    let mut generics = input.generics.clone();
    generics
        .make_where_clause()
        .predicates
        .push(parse_quote!(Self: #private::Serialize));
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    // Each expression's type is checked where it is written.
    let lists = channels
        .iter()
        .map(|expr| quote_spanned!(expr.span()=> #private::IntoChannels::into_channels(#expr)));
    let body = if channels.len() == 1 {
        quote!(#(#lists)*)
    } else {
        let all = Ident::new("channels", Span::mixed_site());
        quote! {
            let mut #all = ::std::vec::Vec::new();
            #( #all.extend(#lists?); )*
            ::core::result::Result::Ok(#all)
        }
    };
    Ok(quote! {
        impl #impl_generics #private::Broadcast for #ident #ty_generics #where_clause {
            const EVENT: &'static str = #event;

            fn channels(&self) -> ::core::result::Result<
                ::std::vec::Vec<#private::ChannelName>,
                #private::ValidationError,
            > {
                #body
            }
        }
    })
}

/// The rules of `rocket_pusher::protocol::validate_event_name`, with its messages.
fn check_event_name(name: &LitStr) -> syn::Result<()> {
    let len = name.value().len();
    if len == 0 {
        return Err(syn::Error::new(name.span(), "event name is empty"));
    }
    if len > MAX_EVENT_NAME_LEN {
        return Err(syn::Error::new(
            name.span(),
            format!("event name is {len} bytes long, the limit is {MAX_EVENT_NAME_LEN}"),
        ));
    }
    Ok(())
}
