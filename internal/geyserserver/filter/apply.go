package filter

import (
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// Apply returns the messages a subscriber with this filter receives for u, each with its `filters`
// field set: the update itself (account data cut to accounts_data_slice), a transaction_status
// message for matching transactions_status filters, and one view per matching blocks filter. The
// results share unmodified sub-messages with u; u itself is not modified.
func (f *Filter) Apply(u *geyserpb.SubscribeUpdate) []*geyserpb.SubscribeUpdate {
	var out []*geyserpb.SubscribeUpdate
	var buf [8]int
	ids := f.AppendMatch(buf[:0], u)
	switch u.GetUpdateOneof().(type) {
	case *geyserpb.SubscribeUpdate_Block:
		for _, id := range ids {
			out = append(out, f.BlockView(u, id))
		}
	case *geyserpb.SubscribeUpdate_Account:
		if len(ids) > 0 {
			m := f.AccountView(u)
			if m == u {
				m = shallow(u)
			}
			m.Filters = f.Names(ids)
			out = append(out, m)
		}
	case *geyserpb.SubscribeUpdate_Transaction:
		if len(ids) > 0 {
			m := shallow(u)
			m.Filters = f.Names(ids)
			out = append(out, m)
		}
		if st := f.AppendMatchStatus(buf[:0], u); len(st) > 0 {
			m := TransactionStatusOf(u)
			m.Filters = f.Names(st)
			out = append(out, m)
		}
	default:
		if len(ids) > 0 {
			m := shallow(u)
			m.Filters = f.Names(ids)
			out = append(out, m)
		}
	}
	return out
}

func shallow(u *geyserpb.SubscribeUpdate) *geyserpb.SubscribeUpdate {
	return &geyserpb.SubscribeUpdate{UpdateOneof: u.GetUpdateOneof(), CreatedAt: u.GetCreatedAt()}
}

// AccountView returns u with the account data cut to accounts_data_slice; u itself when no slices are
// set or u is not an account update. Filters are left empty in a new message.
func (f *Filter) AccountView(u *geyserpb.SubscribeUpdate) *geyserpb.SubscribeUpdate {
	acc := u.GetAccount()
	if len(f.slices) == 0 || acc == nil {
		return u
	}
	return &geyserpb.SubscribeUpdate{
		UpdateOneof: &geyserpb.SubscribeUpdate_Account{Account: &geyserpb.SubscribeUpdateAccount{
			Account:   f.slicedInfo(acc.GetAccount()),
			Slot:      acc.GetSlot(),
			IsStartup: acc.GetIsStartup(),
		}},
		CreatedAt: u.GetCreatedAt(),
	}
}

func (f *Filter) slicedInfo(info *geyserpb.SubscribeUpdateAccountInfo) *geyserpb.SubscribeUpdateAccountInfo {
	if info == nil || len(f.slices) == 0 {
		return info
	}
	return &geyserpb.SubscribeUpdateAccountInfo{
		Pubkey:       info.Pubkey,
		Lamports:     info.Lamports,
		Owner:        info.Owner,
		Executable:   info.Executable,
		RentEpoch:    info.RentEpoch,
		Data:         f.SliceData(info.Data),
		WriteVersion: info.WriteVersion,
		TxnSignature: info.TxnSignature,
	}
}

// TransactionStatusOf builds the transaction_status update for a transaction update (nil otherwise).
func TransactionStatusOf(u *geyserpb.SubscribeUpdate) *geyserpb.SubscribeUpdate {
	tx := u.GetTransaction()
	if tx == nil {
		return nil
	}
	info := tx.GetTransaction()
	return &geyserpb.SubscribeUpdate{
		UpdateOneof: &geyserpb.SubscribeUpdate_TransactionStatus{TransactionStatus: &geyserpb.SubscribeUpdateTransactionStatus{
			Slot:      tx.GetSlot(),
			Signature: info.GetSignature(),
			IsVote:    info.GetIsVote(),
			Index:     info.GetIndex(),
			Err:       info.GetMeta().GetErr(),
		}},
		CreatedAt: u.GetCreatedAt(),
	}
}

// BlockView returns the block update u as blocks filter id delivers it: transactions (unless
// include_transactions is false), accounts (only with include_accounts, cut to accounts_data_slice)
// and entries (only with include_entries); with account_include, only the transactions and accounts
// that involve those accounts. Filters is set to the filter's name.
func (f *Filter) BlockView(u *geyserpb.SubscribeUpdate, id int) *geyserpb.SubscribeUpdate {
	blk := u.GetBlock()
	if blk == nil || f.GroupOf(id) != GroupBlocks {
		return nil
	}
	bf := &f.blocks[id-f.start[GroupBlocks]]
	view := &geyserpb.SubscribeUpdateBlock{
		Slot:                     blk.Slot,
		Blockhash:                blk.Blockhash,
		Rewards:                  blk.Rewards,
		BlockTime:                blk.BlockTime,
		BlockHeight:              blk.BlockHeight,
		ParentSlot:               blk.ParentSlot,
		ParentBlockhash:          blk.ParentBlockhash,
		ExecutedTransactionCount: blk.ExecutedTransactionCount,
		UpdatedAccountCount:      blk.UpdatedAccountCount,
		EntriesCount:             blk.EntriesCount,
	}
	if bf.inclTxs {
		for _, tx := range blk.Transactions {
			if bf.include == nil || (&txAccounts{info: tx}).each(bf.include.hasBytes) {
				view.Transactions = append(view.Transactions, tx)
			}
		}
	}
	if bf.inclAccts {
		for _, a := range blk.Accounts {
			if bf.include == nil || bf.include.hasBytes(a.GetPubkey()) {
				view.Accounts = append(view.Accounts, f.slicedInfo(a))
			}
		}
	}
	if bf.inclEnts {
		view.Entries = blk.Entries
	}
	return &geyserpb.SubscribeUpdate{
		Filters:     []string{f.names[id]},
		UpdateOneof: &geyserpb.SubscribeUpdate_Block{Block: view},
		CreatedAt:   u.GetCreatedAt(),
	}
}
