"""The referrer's pages and the referral page: one module per page family."""
