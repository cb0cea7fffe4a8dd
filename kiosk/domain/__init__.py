"""Pure rules of family mutual aid: relations, policy, eligibility, ID numbers, masking, settlement."""
