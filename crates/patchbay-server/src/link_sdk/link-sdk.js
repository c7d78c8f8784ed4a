// Patchbay Link SDK: open the connect page from your own app.
//
// Served by patchbay-server at /link-sdk.js (an ES module, no dependencies):
//
//   import { openConnect } from 'https://patchbay.example.com/link-sdk.js';
//   const result = await openConnect({
//     linkToken,                                  // from POST /link-token
//     baseUrl: 'https://patchbay.example.com',    // the server's PATCHBAY_PUBLIC_URL
//     onSuccess(result) {}, onError(error) {}, onClose() {},
//   });
//   // result: { integrated_account_id, status, tenant_id, environment_integration_id, error }
//
// The link token must have a `redirect_uri` on your page's origin: the connect
// result page posts its outcome only to that origin (never to `*`), then follows it.
// By default the SDK opens a popup; call openConnect from a click handler so the
// browser allows it.
//
// Iframe mode: `openConnect({ linkToken, baseUrl, mode: 'iframe', container })` puts
// the connect page in an iframe appended to `container` (an element) and removes it
// once the result arrives. The server lets a page frame the connect pages only when
// its origin is listed in PATCHBAY_CORS_ALLOWED_ORIGINS; elsewhere the browser
// refuses to show them. Providers' own sign-in pages usually refuse framing, so
// iframe mode suits API-key integrations; use the popup for OAuth.
//
// The result is accepted only from the popup itself (`event.source`; or, when the
// popup had already moved on to the redirect_uri as the message was delivered, a
// `null` source) and only from `baseUrl`'s origin (`event.origin`). Failures reject with a PatchbayConnectError
// whose `code` says what happened:
//   invalid_options  linkToken or baseUrl is missing or not usable, or the mode or
//                    the iframe's container is
//   popup_blocked    the browser did not open the popup
//   closed           the popup was closed before the connection finished
//   wrong_origin     the popup answered from another origin than baseUrl's

/** An error of openConnect; `code` is one of the codes above. */
export class PatchbayConnectError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'PatchbayConnectError';
    this.code = code;
  }
}

/** How often the SDK checks whether the popup was closed (milliseconds). */
const CLOSED_POLL_MS = 300;

function connectUrl(baseUrl, linkToken) {
  const url = new URL('/connect-account', baseUrl);
  url.searchParams.set('link_token', linkToken);
  return url;
}

/**
 * Opens the connect page for `linkToken` in a popup (or, with `mode: 'iframe'`,
 * an iframe in `container`) and resolves with the connection's outcome, or
 * rejects with a PatchbayConnectError.
 */
export function openConnect(options) {
  const opts = options || {};
  const onSuccess = typeof opts.onSuccess === 'function' ? opts.onSuccess : function () {};
  const onError = typeof opts.onError === 'function' ? opts.onError : function () {};
  const onClose = typeof opts.onClose === 'function' ? opts.onClose : function () {};
  const target = opts.target || window;

  const mode = opts.mode || 'popup';

  return new Promise(function (resolve, reject) {
    let popup = null;   // the window that answers: the popup or the iframe's
    let iframe = null;
    let timer = null;
    let settled = false;

    function dismiss() {
      try {
        if (iframe) iframe.remove(); else popup.close();
      } catch (e) { /* already gone */ }
    }

    function finish(error, result) {
      if (settled) return;
      settled = true;
      target.removeEventListener('message', onMessage);
      if (timer !== null) clearInterval(timer);
      if (error) {
        onError(error);
        reject(error);
      } else {
        onSuccess(result);
        resolve(result);
      }
    }

    let url;
    let origin;
    try {
      if (typeof opts.linkToken !== 'string' || opts.linkToken === '') {
        throw new PatchbayConnectError('invalid_options', 'openConnect needs a linkToken (from POST /link-token).');
      }
      if (typeof opts.baseUrl !== 'string' || opts.baseUrl === '') {
        throw new PatchbayConnectError('invalid_options', 'openConnect needs the baseUrl of the Patchbay server.');
      }
      if (mode !== 'popup' && mode !== 'iframe') {
        throw new PatchbayConnectError('invalid_options', "mode must be 'popup' or 'iframe'.");
      }
      if (mode === 'iframe' && !(opts.container && typeof opts.container.appendChild === 'function')) {
        throw new PatchbayConnectError('invalid_options', "openConnect with mode 'iframe' needs a container element.");
      }
      url = connectUrl(opts.baseUrl, opts.linkToken);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new PatchbayConnectError('invalid_options', 'baseUrl must be an http or https URL.');
      }
      origin = url.origin;
    } catch (e) {
      finish(e instanceof PatchbayConnectError ? e
        : new PatchbayConnectError('invalid_options', 'baseUrl is not a URL: ' + opts.baseUrl));
      return;
    }

    function onMessage(event) {
      const data = event.data;
      if (!popup || !data || data.source !== 'patchbay' || data.type !== 'connect') return;
      // The result page posts, then at once follows the link's redirect_uri. When that
      // navigation has already swapped the popup's document out, Chromium delivers the
      // message with `event.source === null`: accepted only from baseUrl's origin.
      const fromPopup = event.source === popup;
      if (!fromPopup && !(event.source === null && event.origin === origin)) return;
      if (event.origin !== origin) {
        dismiss();
        finish(new PatchbayConnectError('wrong_origin',
          'The connect window answered from ' + event.origin + ', not from ' + origin +
          ' (is baseUrl the server\'s public URL?).'));
        return;
      }
      const result = {
        integrated_account_id: data.integrated_account_id,
        status: data.status,
        tenant_id: data.tenant_id,
        environment_integration_id: data.environment_integration_id,
        error: data.error || null,
      };
      if (opts.closeOnSuccess !== false) dismiss();
      finish(null, result);
    }

    target.addEventListener('message', onMessage);
    if (mode === 'iframe') {
      iframe = (target.document || document).createElement('iframe');
      iframe.src = url.toString();
      iframe.title = opts.title || 'Connect an account';
      iframe.style.border = '0';
      iframe.style.width = '100%';
      iframe.style.height = (opts.height || 700) + 'px';
      opts.container.appendChild(iframe);
      popup = iframe.contentWindow;
      return;
    }
    const features = 'width=' + (opts.width || 500) + ',height=' + (opts.height || 700);
    popup = target.open(url.toString(), 'patchbay-connect', features);
    if (!popup) {
      finish(new PatchbayConnectError('popup_blocked',
        'The browser blocked the connect window. Call openConnect from a click, or allow popups for this site.'));
      return;
    }
    timer = setInterval(function () {
      if (settled) return;
      if (popup.closed) {
        onClose();
        finish(new PatchbayConnectError('closed', 'The connect window was closed before the connection finished.'));
      }
    }, CLOSED_POLL_MS);
  });
}
