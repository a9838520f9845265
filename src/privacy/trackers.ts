/**
 * Built-in tracking parameters, written from the vendors' documented names (Google Ads/Analytics,
 * Meta, Microsoft Ads, Mailchimp, HubSpot, Matomo/Piwik, AT Internet, Yandex, TikTok, LinkedIn,
 * Instagram, Twitter/X, Marketo, Omniture, Vero, Olytics…). Each entry is a full-match,
 * case-insensitive pattern for a parameter name. The test suite checks that this list catches
 * every parameter the ClearURLs global rules catch (shared/data/clearurls).
 */
export const BUILTIN_TRACKER_PATTERNS: readonly string[] = [
  // Campaign parameters: Google/UTM, Matomo (mtm_, pk_), Piwik PRO, Adobe, AT Internet, Olytics…
  'utm(?:_[a-z0-9_]*)?',
  'mtm(?:_[a-z0-9_]*)?',
  'pk_[a-z0-9_]*',
  'piwik_[a-z0-9_]*',
  'ga_[a-z0-9_]+',
  'itm_[a-z0-9_]+',
  'otm_[a-z0-9_]*',
  'hmb_[a-z0-9_]+',
  'at_[a-z0-9_]+',
  'xtor',
  'cmpid',
  's_cid',
  'sc_cid',
  'ef_id',
  'tracking_source',
  // Click identifiers.
  'gclid',
  'gclsrc',
  'gbraid',
  'wbraid',
  'dclid',
  'srsltid',
  'fbclid',
  'msclkid',
  'yclid',
  'ysclid',
  'twclid',
  'ttclid',
  'li_fat_id',
  'igshid',
  'igsh',
  'epik',
  'rb_clickid',
  'wickedid',
  // Google Analytics linker and cookies, Google search internals.
  '_ga',
  '_gl',
  'gs_l',
  // Meta.
  'fb_action_ids',
  'fb_action_types',
  'fb_source',
  'fb_ref',
  'action_object_map',
  'action_type_map',
  'action_ref_map',
  // E-mail platforms: Mailchimp, HubSpot, Marketo, MailerLite, Vero, Omeda/Olytics, Webtrends.
  'mc_eid',
  'mc_cid',
  'mc_tc',
  '[a-z]?mc',
  '_hsenc',
  '_hsmi',
  '__hsfp',
  '__hssc',
  '__hstc',
  '__s',
  'hsctatracking',
  'mkt_tok',
  'ml_subscriber',
  'ml_subscriber_hash',
  'vero_conv',
  'vero_id',
  'oly_anon_id',
  'oly_enc_id',
  'wt_?z?mc',
  'wtrid',
  // Others listed by the ClearURLs global rules.
  'yclid',
  '_openstat',
  '__twitter_impression',
  'os_ehash',
  'echobox',
  'spm',
  'vn(?:_[a-z0-9]*)+',
  'ceneo_spo',
];

/** A compiled list of tracker patterns for parameter names. */
export interface TrackerList {
  /** True when `name` is a known tracking parameter (for a URL, optionally, per-provider rules). */
  isTracker(name: string, url?: string): boolean;
}

/** Compiles full-match, case-insensitive patterns, tolerating an encoded `?` (%3F) prefix. */
export function compilePatterns(patterns: readonly string[]): RegExp {
  return new RegExp(`^(?:%3F)?(?:${patterns.join('|')})$`, 'i');
}

/** The built-in list alone. */
export const BUILTIN_TRACKERS: TrackerList = (() => {
  const pattern = compilePatterns(BUILTIN_TRACKER_PATTERNS);
  return { isTracker: (name) => pattern.test(name) };
})();
