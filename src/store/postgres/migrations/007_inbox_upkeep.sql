-- why: old processed inbox rows and sent txn ids are pruned, so neither table grows without bound.
CREATE INDEX sent_txns_by_age ON sent_txns(created_at);
