"""/v1/otp: send the relative an SMS code, and verify the code they read out (each in one transaction)."""

from fastapi import APIRouter, BackgroundTasks

from kiosk import api
from kiosk.central import otp
from kiosk.central.deps import OutboxDep, SessionDep, SettingsDep, SignedKiosk

router = APIRouter(prefix="/otp", tags=["verification"])


@router.post("/send")
def otp_send(
    kiosk_id: SignedKiosk,
    db: SessionDep,
    settings: SettingsDep,
    outbox: OutboxDep,
    body: api.OtpSendIn,
    tasks: BackgroundTasks,
) -> api.OtpSendOut:
    with db.begin():
        out = otp.send(db, settings.otp_key, settings.otp_rules, settings.clock(), kiosk_id, body)
    tasks.add_task(outbox.deliver)
    return out


@router.post("/verify")
def otp_verify(db: SessionDep, settings: SettingsDep, body: api.OtpVerifyIn) -> api.OtpVerifyOut:
    with db.begin():  # a wrong code is returned, not raised, so that the counted attempt is committed
        failure = otp.verify(db, settings.otp_key, settings.otp_rules, settings.clock(), body)
    if failure is not None:
        raise failure
    return api.OtpVerifyOut(verified=True)
