"""The reference central medical-insurance service: registry, policies, bindings, OTP, settlements."""
